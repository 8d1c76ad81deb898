"""The search's summary on the terminal says what the study did, in words that are true of it."""

from fakes.search_doubles import search_result as study
from hwprof.search.report import summary_lines
from hwprof.search.study import TrialRecord


def trial(number, state, latency_ms=1.0, score=None, checked=None, **attrs):
    return TrialRecord(
        number,
        state,
        {"w": number},
        {"latency_ms": latency_ms, "flops": 1e6, "params": 500.0},
        checked or {},
        True,
        score,
        0.0,
        0.0,
        0.0,
        **attrs,
    )


def budgets_line(result):
    return next(line for line in summary_lines(result) if line.startswith("budgets: "))


def test_the_budgets_line_names_the_interval_end_each_budget_was_held_against():
    """latency_ms>=0.5 is held against the interval's lower end, not the upper one the summary used to name."""
    records = [trial(0, "trained", score=0.4)]
    assert budgets_line(study(records, ("latency_ms<=1.5",), 0.9)).endswith(
        "(held against the upper end of the 90% interval)"
    )
    assert budgets_line(study(records, ("latency_ms>=0.5",), 0.9)).endswith(
        "(held against the lower end of the 90% interval)"
    )
    assert budgets_line(study(records, ("latency_ms>=0.5", "latency_ms<2"), 0.9)).endswith(
        "(held against the 90% interval's upper end for an upper limit and its lower end for a lower one)"
    )
    assert budgets_line(study(records, ("latency_ms<=1.5", "flops<=2e+06"))).endswith(
        "(held against the point prediction, counted metrics against their count)"
    )
    assert budgets_line(study(records, ("params<=1000",), 0.9)).endswith("(held against the counted values)")


def test_candidates_outside_the_training_data_are_not_said_to_have_had_their_intervals_widened():
    """An interval that already spans the largest held-out error is not widened: the summary claims no widening
    the predictor did not report, only what holds for every interval outside the training data."""
    records = [trial(0, "trained", score=0.4), trial(1, "skipped", checked={"latency_ms<=5": 6.0})]
    records[1].metrics["outside_training_data"] = 1.0
    (line,) = [line for line in summary_lines(study(records, confidence=0.9)) if "outside the predictor's" in line]
    assert line.startswith("1 of 2 candidates lay outside the predictor's training data")
    assert "intervals were widened" not in line
    assert "each at least as wide as the largest error the predictor's held-out networks showed" in line


def test_counted_metrics_are_not_headed_as_predicted_in_the_pareto_table():
    from hwprof.search.report import render_table

    result = study([trial(0, "trained", score=0.4)], ("latency_ms<=5", "flops<=2e+06", "params>=100"))
    headings = [column.header for column in render_table(result).columns]
    assert headings == ["trial", "score", "pred. latency ms", "MACs", "params", "configuration"]


def test_the_summary_counts_one_of_a_kind_in_the_singular():
    one_each = [trial(0, "trained", score=0.4), trial(1, "skipped", checked={"latency_ms<=5": 6.0})]
    unaware = study(one_each, trials_wanted=2)
    unaware.records[0].feasible = False  # trained without a budget check, as the constraint-unaware baseline is
    first = summary_lines(unaware)[0]
    assert "2 trials finished, 1 trained, 1 training skipped as predicted infeasible" in first
    assert "1 trained configuration breaks a budget" in first
    assert "1 of 2 trials finished" in summary_lines(study(one_each[1:], trials_wanted=2))[0]
    assert "0 of 1 trial finished" in summary_lines(study([], trials_wanted=1))[0]
    nothing = summary_lines(study(one_each[1:]))[-1]
    assert nothing.startswith("no configuration in 1 trial was predicted to meet the budgets")
    assert summary_lines(study([]), stopped=True)[-1].startswith("the search stopped after 0 finished trials,")
