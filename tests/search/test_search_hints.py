"""The commands and advice a search prints run as printed and fit what happened."""

import shlex
from pathlib import Path
from types import SimpleNamespace

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import summary_lines
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


def test_the_refit_command_quotes_a_verified_dataset_in_a_folder_with_a_space():
    from hwprof.cli.search import _refit_hint

    kept = Path("search ok") / "verified.parquet"
    hint = _refit_hint(SimpleNamespace(source="p2.json", doc={}), kept)
    command = hint[hint.index("`") + 1 : hint.rindex("`")]
    assert shlex.split(command) == [
        "hwprof", "fit", "search ok/verified.parquet", "--base", "p2.json", "--out", "search ok/refit.json"
    ]  # fmt: skip


def _outside_line(result, **given):
    return next(line for line in summary_lines(result, **given) if "outside the predictor's training data" in line)


def _search(budget: str):
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=20, constraints=parse_constraints([budget]), seed=1)
    return run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)


def test_verify_is_advised_only_where_it_would_measure_something_and_was_not_given():
    feasible = _search("latency_ms<=1")
    assert "--verify keeps the measurements" in _outside_line(feasible)
    assert "--verify" not in _outside_line(feasible, verify=True)  # it was given: its measurements follow
    nothing_holds = _search("latency_ms<=0.0001")  # no trained candidate: --verify would measure nothing
    assert not nothing_holds.feasible_trained()
    assert "--verify" not in _outside_line(nothing_holds)
