"""search.json says what the search came from, as datasets and predictor files do: which predictor file (its path,
created, format version and sha256), which space file, which hwprof, and when it started and finished. It said
none of these, so a search could not be tied to the predictor whose budgets it held."""

import hashlib
import json
import re
from types import SimpleNamespace

import hwprof
from hwprof.search import results
from hwprof.search.constraints import parse_constraint
from hwprof.search.study import SearchResult

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def empty_result() -> SearchResult:
    return SearchResult(
        "s", "toy", "obj", [parse_constraint("latency_ms<=1")], None, 1, "tpe", "maximize", True, [], []
    )


def test_search_json_names_its_predictor_space_hwprof_and_times(tmp_path):
    predictor_file = tmp_path / "predictor.json"
    predictor_file.write_text(json.dumps({"format_version": 2, "created": "2026-01-02T03:04:05+00:00"}))
    predictor = SimpleNamespace(doc=json.loads(predictor_file.read_text()), source=str(predictor_file))
    space = tmp_path / "space.yaml"
    started = "2026-01-02T04:00:00+00:00"
    doc = results.load(
        results.dump(empty_result(), tmp_path / "search.json", predictor=predictor, space=space, started=started)
    )
    assert doc["predictor"] == {
        "path": str(predictor_file),
        "created": "2026-01-02T03:04:05+00:00",
        "format_version": 2,
        "sha256": hashlib.sha256(predictor_file.read_bytes()).hexdigest(),
        "conditions": None,
    }
    assert doc["space_path"] == str(space) and doc["hwprof_version"] == hwprof.__version__
    assert doc["started"] == started and ISO_UTC.fullmatch(doc["finished"])


def test_a_predictor_made_in_memory_has_no_path_and_what_is_unknown_is_null(tmp_path):
    predictor = SimpleNamespace(doc={"format_version": 2, "created": "2026-01-02T03:04:05+00:00"}, source="<memory>")
    doc = results.load(results.dump(empty_result(), tmp_path / "search.json", predictor=predictor))
    assert doc["predictor"]["path"] is None and doc["predictor"]["sha256"] is None
    assert doc["predictor"]["conditions"] is None
    assert doc["space_path"] is None and doc["started"] is None and ISO_UTC.fullmatch(doc["finished"])


def test_search_json_records_the_board_and_conditions_its_costs_are_for(tmp_path):
    conditions = {"device_name": "Board B", "device": ["cpu"], "threads": [1], "dtypes": ["float32"]}
    predictor = SimpleNamespace(doc={"format_version": 2}, source="<memory>", conditions=conditions)
    doc = results.load(results.dump(empty_result(), tmp_path / "search.json", predictor=predictor))
    assert doc["predictor"]["conditions"] == conditions
