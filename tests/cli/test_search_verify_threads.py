"""--verify measures at the thread count the predictor was fitted at, not at torch's default."""

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.measuring.session
from fakes.search_doubles import LATENCY_MS_PER_WIDTH, TOY_SPACE, ToyPredictor
from hwprof.cli import main


class OneThreadPredictor(ToyPredictor):
    doc = {
        "created": "2026-01-01T00:00:00+00:00",
        "format_version": 0,
        "training": {"sources": [{"path": "d1.parquet", "runs": [{"run_id": "a", "threads": 1}]}]},
    }


@pytest.fixture
def searched(tmp_path, monkeypatch):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: OneThreadPredictor())
    threads_measured = []

    def measure(specs, batch_sizes=(1,), **kwargs):
        threads_measured.append(kwargs["threads"])
        rows = [
            {"model": s.name, "kind": "network", "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width} for s in specs
        ]
        return pd.DataFrame(rows)

    monkeypatch.setattr(hwprof.measuring.session, "measure", measure)

    def invoke(*extra):
        args = ["search", str(space), "--constraint", "latency_ms<=1", "--trials", "6", "--seed", "1"]
        args += ["--out", str(tmp_path / "out"), "--force", "--verify", "--verify-count", "1", *extra]
        return CliRunner().invoke(main, args)

    return invoke, threads_measured


def test_verify_measures_at_the_predictors_thread_count_and_says_so(searched):
    invoke, threads_measured = searched
    result = invoke()
    assert result.exit_code == 0, result.output
    assert threads_measured == [1]
    assert "measuring at 1 thread, the thread count of the predictor's training runs" in result.output


def test_threads_that_contradict_the_predictor_are_refused_before_any_trial(searched):
    invoke, threads_measured = searched
    result = invoke("--threads", "2")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--threads 2 contradicts the predictor, fitted on runs at 1 thread" in result.output
    assert "trial 0" not in result.output and threads_measured == []


def test_verify_with_no_feasible_candidate_says_nothing_was_measured_and_why(searched):
    invoke, threads_measured = searched
    result = invoke("--constraint", "params>=1e9")
    assert result.exit_code == 1, result.output  # every trial skipped: no score
    assert threads_measured == []
    assert "verify: nothing was measured, since no trained configuration was predicted to meet the budgets" in (
        result.output
    )
