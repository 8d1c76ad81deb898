"""The Pareto table names the cost axes its front is drawn over, so a budgeted column that is not one (memory, say)
is not read as an axis whose cheapest trial went missing."""

from fakes.search_doubles import search_result
from hwprof.search.report import render_table
from hwprof.search.study import TrialRecord


def _trained(number, score, latency_ms, memory_mb):
    metrics = {"latency_ms": latency_ms, "memory_mb": memory_mb}
    checked = {"latency_ms<=5": latency_ms, "memory_mb<=1": memory_mb}
    return TrialRecord(number, "trained", {"w": number}, metrics, checked, True, score, 0, 0, 0)


def test_the_table_title_names_the_front_axes_and_the_columns_that_are_not():
    # trial 1 has the least memory but is beaten on score and latency: off the front, as its title says
    result = search_result(
        [_trained(0, 8.3, 0.036, 0.02), _trained(1, 6.9, 0.037, 0.007)], ("latency_ms<=5", "memory_mb<=1")
    )
    table = render_table(result)
    assert [record.number for record in result.pareto_front()] == [0]
    assert (
        table.title
        == "Pareto front: score against predicted latency ms (feasible, trained; memory MB shown, not front axes)"
    )


def test_a_front_with_no_other_column_names_only_its_axes():
    result = search_result([_trained(0, 8.3, 0.036, 0.02)])
    assert render_table(result).title == "Pareto front: score against predicted latency ms (feasible, trained)"
