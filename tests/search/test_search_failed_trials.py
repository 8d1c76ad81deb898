"""--trials counts finished trials: a failed one (its factory or objective failed) is replaced by another, so a
search asked for N evaluates N, and one whose trials keep failing stops after FAILURES_IN_A_ROW of them."""

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import stopped_short, summary_lines
from hwprof.search.space import space_from_dict
from hwprof.search.study import FAILURES_IN_A_ROW, SearchOptions, run_search


def search(objective, trials, **extra):
    space = space_from_dict({**TOY_SPACE, "objective": None})
    options = SearchOptions(trials=trials, constraints=parse_constraints(["latency_ms<=5"]), seed=2, **extra)
    return run_search(space, ToyPredictor(), objective, "toy_objective", options)


def fails_on_narrow_head(model, params):
    if params["head"] == "narrow":
        raise RuntimeError("out of data")
    return score_toy(model, params)


def test_failed_trials_do_not_count_toward_the_trials_asked_for():
    result = search(fails_on_narrow_head, trials=12)
    assert result.failed > 0
    assert len(result.finished) == 12  # twelve evaluated, however many failed on the way
    assert len(result.records) == 12 + result.failed
    assert result.stopped_after_failures is None and stopped_short(result) is None
    summary = result.to_dict()
    assert summary["trials_finished"] == 12 and summary["failed_trials"] == result.failed
    assert summary["trials_wanted"] == 12
    assert (
        f"12 trials finished, 12 trained, 0 trainings skipped as predicted infeasible, {result.failed} failed"
        in (summary_lines(result)[0])
    )


def test_a_search_whose_every_trial_fails_stops_after_failures_in_a_row():
    def broken(model, params):
        raise ValueError("no data")

    result = search(broken, trials=40)
    assert [r.state for r in result.records] == ["failed"] * FAILURES_IN_A_ROW
    assert result.stopped_after_failures == FAILURES_IN_A_ROW and result.finished == []
    assert "0 of 40 trials finished" in summary_lines(result)[0]
    assert stopped_short(result).startswith(
        f"the search stopped after {FAILURES_IN_A_ROW} trials in a row failed, with 0 of the 40 trials asked for "
        f"finished; the last (trial {FAILURES_IN_A_ROW - 1}, "
    )
    assert stopped_short(result).endswith(
        "because the objective raised ValueError: no data: fix the objective and run again"
    )


def test_failures_in_a_row_are_counted_in_this_run_and_a_resumed_study_finishes_its_trials(tmp_path):
    journal = str(tmp_path / "study.journal")
    calls = []

    def broken_then_fixed(model, params):  # the first run's objective is broken; the user fixes it and resumes
        calls.append(params)
        if len(calls) <= FAILURES_IN_A_ROW:
            raise ValueError("no data")
        return score_toy(model, params)

    first = search(broken_then_fixed, trials=6, storage=journal)
    assert first.stopped_after_failures == FAILURES_IN_A_ROW and first.finished == []
    resumed = search(broken_then_fixed, trials=6, storage=journal)
    assert resumed.stopped_after_failures is None
    assert len(resumed.finished) == 6 and resumed.failed == FAILURES_IN_A_ROW  # the journal keeps the failures
    again = search(broken_then_fixed, trials=6, storage=journal)
    assert len(again.records) == len(resumed.records)  # six finished already: nothing more runs
