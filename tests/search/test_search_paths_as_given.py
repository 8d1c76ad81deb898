"""search.json names the predictor and space files as the user gave them, as fit's sources and evaluate do: a
published search.json written from relative paths must not carry the author's home folder."""

import hashlib
import json
from types import SimpleNamespace

from hwprof.search import results
from hwprof.search.constraints import parse_constraint
from hwprof.search.study import SearchResult


def test_relative_predictor_and_space_paths_stay_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    predictor_file = tmp_path / "models" / "predictor.json"
    predictor_file.write_text(json.dumps({"format_version": 2, "created": "2026-01-02T03:04:05+00:00"}))
    predictor = SimpleNamespace(doc={"format_version": 2}, source="models/predictor.json")
    result = SearchResult(
        "s", "toy", "obj", [parse_constraint("latency_ms<=1")], None, 1, "tpe", "maximize", True, [], []
    )

    doc = results.load(results.dump(result, "out/search.json", predictor=predictor, space="sp/space.yaml"))
    assert doc["space_path"] == "sp/space.yaml"
    assert doc["predictor"]["path"] == "models/predictor.json"
    assert doc["predictor"]["sha256"] == hashlib.sha256(predictor_file.read_bytes()).hexdigest()  # still found
    assert str(tmp_path) not in (tmp_path / "out" / "search.json").read_text()
