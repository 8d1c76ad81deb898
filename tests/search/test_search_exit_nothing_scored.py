"""A search that produced no score fails the command, whether every trial was skipped as over budget or every one
not skipped failed: a CI job must not pass on it. Its results are written first."""

import json

import yaml
from click.testing import CliRunner

import hwprof.cli.search
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.cli import main


def _search(tmp_path, monkeypatch, budget: str):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    out = tmp_path / "out"
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    args = ["search", str(space), "--constraint", budget, "--trials", "4", "--seed", "1", "--out", str(out)]
    return CliRunner().invoke(main, args), out / "search.json"


def test_a_search_whose_every_trial_was_skipped_exits_non_zero_after_writing_its_results(tmp_path, monkeypatch):
    result, written = _search(tmp_path, monkeypatch, "latency_ms<=0.01")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no configuration in 4 trials was predicted to meet the budgets" in result.output  # the advice stays
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: no trial produced a score, since every one was predicted to break a budget")
    summary = json.loads(written.read_text())
    assert summary["skipped_trainings"] == summary["trials_finished"] == 4 and summary["best"] is None
    assert (written.parent / "pareto.png").exists()


def test_a_search_that_trained_a_feasible_configuration_exits_zero(tmp_path, monkeypatch):
    result, written = _search(tmp_path, monkeypatch, "latency_ms<=1")
    assert result.exit_code == 0, result.output
    assert json.loads(written.read_text())["best"] is not None
