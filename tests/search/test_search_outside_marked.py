"""The best feasible line and the Pareto table mark candidates outside the predictor's training data."""

from rich.console import Console

from fakes.search_doubles import search_result
from hwprof.search.report import render_table, summary_lines
from hwprof.search.study import TrialRecord


def trained(number, latency_ms, score, outside):
    metrics = {"latency_ms": latency_ms, "params": 10.0, "outside_training_data": float(outside)}
    return TrialRecord(number, "trained", {"w": number}, metrics, {}, True, score, 0.0, 0.0, 0.0)


def table_text(result):
    console = Console(width=200, record=True)
    console.print(render_table(result))
    return console.export_text()


def test_a_best_outside_the_training_data_is_marked():
    result = search_result([trained(0, 1.0, 0.9, True), trained(1, 0.5, 0.5, False)])
    assert summary_lines(result)[-1].endswith("(outside the predictor's training data: its costs were never validated)")
    lines = table_text(result).splitlines()
    assert any("outside training data" in line for line in lines)
    row_of = {number: next(line for line in lines if f"w={number}" in line) for number in (0, 1)}
    assert "yes" in row_of[0] and "yes" not in row_of[1]


def test_nothing_is_marked_inside_the_training_data():
    result = search_result([trained(0, 1.0, 0.9, False)])
    assert "outside" not in summary_lines(result)[-1] and "outside" not in table_text(result)
