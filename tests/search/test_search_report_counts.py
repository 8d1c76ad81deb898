"""The summary's count of candidates outside the predictor's training data counts the finished trials (trained
or skipped) only: an interrupted trial, predicted but never trained, made a search of 3 finished trials say
"4 of 4 candidates lay outside the predictor's training data"."""

from fakes.search_doubles import search_result, two_trained_trials
from hwprof.search.report import summary_lines
from hwprof.search.study import TrialRecord


def test_only_finished_trials_are_counted_as_candidates():
    records = two_trained_trials()
    predicted = {"latency_ms": 9.0, "outside_training_data": True}
    records.append(TrialRecord(3, "skipped", {"w": 3}, predicted, {"latency_ms<=5": 9.0}, False, None, 0, None, 0))
    for number, state in enumerate(("interrupted", "failed", "unfinished"), start=4):
        records.append(TrialRecord(number, state, {"w": number}, predicted, {}, None, None, 0, None, None))
    records[0].metrics["outside_training_data"] = True
    result = search_result(records, trials_wanted=3)
    outside = [line for line in summary_lines(result) if "outside the predictor's training data" in line]
    assert outside[0].startswith("2 of 3 candidates lay outside the predictor's training data")
