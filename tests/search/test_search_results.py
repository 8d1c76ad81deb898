"""search.json: standard JSON that any reader parses, whatever the study held."""

import math

import numpy as np

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
