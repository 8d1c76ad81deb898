"""`hwprof search --trials N` evaluates N trials however many fail on the way, says how many failed, and a
search whose trials keep failing stops in one sentence."""

import json

import pytest
import yaml
from click.testing import CliRunner

import hwprof.cli.search
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.cli import main
from hwprof.search.study import FAILURES_IN_A_ROW


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """(space file, objective file): the toy family, and an objective whose `body` runs before the toy score."""
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    return space, tmp_path / "objective.py"


def search(toy, tmp_path, body, trials):
    space, objective = toy
    objective.write_text(
        "from fakes.search_doubles import score_toy\n"
        "CALLS = []\n"
        "def evaluate(model, params):\n"
        "    CALLS.append(params)\n"
        f"    {body}\n"
        "    return score_toy(model, params)\n"
    )
    out = tmp_path / "out"
    args = [space, "--predictor", "unused.json", "--objective", f"{objective}:evaluate", "--seed", 2]
    args += ["--constraint", "latency_ms<=5", "--trials", trials, "--out", out]
    result = CliRunner().invoke(main, ["search", *map(str, args)])
    return result, json.loads((out / "search.json").read_text())


def test_trials_counts_evaluated_trials_and_the_summary_says_how_many_failed(toy, tmp_path):
    result, summary = search(toy, tmp_path, "if params['head'] == 'narrow': raise RuntimeError('out of data')", 10)
    assert result.exit_code == 0, result.output
    failed = summary["failed_trials"]
    assert failed > 0 and summary["trials_finished"] == 10 and len(summary["trials"]) == 10 + failed
    assert f"10 trials finished, 10 trained, 0 trainings skipped as predicted infeasible, {failed} failed" in (
        result.output
    )


def test_a_search_whose_trials_keep_failing_stops_in_one_sentence(toy, tmp_path):
    result, summary = search(toy, tmp_path, "if len(CALLS) > 3: raise RuntimeError('disk full')", 30)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert summary["trials_finished"] == 3 and summary["failed_trials"] == FAILURES_IN_A_ROW
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: the search stopped after {FAILURES_IN_A_ROW} trials in a row failed")
    assert "3 of the 30 trials asked for finished" in last and "RuntimeError: disk full" in last
