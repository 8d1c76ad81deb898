"""Two `hwprof search --out DIR` at once: both found no DIR/search.json when they started, and the one that
finished second replaced the first's results without --force. Its results now go beside them, and it says where."""

import json
import os

import yaml
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.search.study
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.cli import main


def _search(tmp_path, monkeypatch, *extra):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    out = tmp_path / "out"
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    searched = hwprof.search.study.run_search

    def search_while_another_finishes(*args, **kwargs):
        result = searched(*args, **kwargs)
        (out / "search.json").write_text(json.dumps({"the other": "search"}))
        return result

    monkeypatch.setattr(hwprof.search.study, "run_search", search_while_another_finishes)
    args = ["search", str(space), "--constraint", "latency_ms<=1", "--trials", "3", "--seed", "1", "--out", str(out)]
    return out, CliRunner().invoke(main, [*args, *extra])


def test_results_another_search_wrote_meanwhile_are_kept_and_these_go_beside_them(tmp_path, monkeypatch):
    out, result = _search(tmp_path, monkeypatch)
    assert result.exit_code == 1 and "Traceback" not in result.output
    aside = out / f"search.{os.getpid()}.json"
    assert aside.name in result.output and "not saved" not in result.output
    assert json.loads((out / "search.json").read_text()) == {"the other": "search"}
    assert json.loads(aside.read_text())["trials_finished"] >= 1


def test_with_force_they_are_replaced(tmp_path, monkeypatch):
    out, result = _search(tmp_path, monkeypatch, "--force")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "search.json").read_text())["trials_finished"] >= 1
