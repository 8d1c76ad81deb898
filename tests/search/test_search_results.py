"""search.json: standard JSON that any reader parses, whatever the study held."""

import math

import numpy as np
import pytest

from hwprof.search import results
from hwprof.search.constraints import parse_constraint
from hwprof.search.study import SearchResult, TrialRecord


def test_infinite_and_unknown_numbers_are_written_as_null(tmp_path):
    skipped = TrialRecord(
        0,
        "skipped",
        {"width": np.int64(4)},
        {"latency_ms": np.float32(2.0), "energy_mj": math.nan},
        {"latency_ms<=1": math.inf},
        False,
        None,
        0.01,
        None,
        0.5,
    )
    result = SearchResult(
        "s", "toy", "obj", [parse_constraint("latency_ms<=1")], 0.9, 1, "tpe", "maximize", True, [], [skipped]
    )
    doc = results.load(results.dump(result, tmp_path / "search.json"))  # refuses Infinity and NaN
    (trial,) = doc["trials"]
    assert trial["checked"] == {"latency_ms<=1": None}
    assert trial["metrics"] == {"latency_ms": 2.0, "energy_mj": None}
    assert trial["params"] == {"width": 4}


def test_each_trial_keeps_its_predicted_interval_and_the_level_it_was_predicted_at(tmp_path):
    """The budgets were held against these bounds with --confidence: search.json shows them, not only the end
    that was checked."""
    from fakes.search_doubles import TOY_SPACE, ToyPredictor
    from hwprof.search.space import space_from_dict
    from hwprof.search.study import SearchOptions, run_search

    space = space_from_dict(TOY_SPACE)
    for confidence, level in ((0.8, 0.8), (None, 0.9)):
        options = SearchOptions(
            trials=4, constraints=[parse_constraint("latency_ms<=1")], confidence=confidence, seed=1
        )
        result = run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)
        doc = results.load(results.dump(result, tmp_path / "search.json"))
        assert doc["interval_confidence"] == level
        for trial in doc["trials"]:
            latency_ms = trial["metrics"]["latency_ms"]
            assert trial["intervals"]["latency_ms"] == pytest.approx([0.9 * latency_ms, 1.1 * latency_ms])
            assert set(trial["intervals"]) == {"latency_ms", "energy_mj"}
