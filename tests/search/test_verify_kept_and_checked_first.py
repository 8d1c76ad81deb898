"""`search --verify` keeps every finished trial when the verification fails, and refuses before any trial a
verification that cannot run here: a device that is not here, a power sensor that cannot read it, or the
predictor's thread count on fewer CPUs."""

import json

import pandas as pd
import pytest

from fakes.search_doubles import LATENCY_MS_PER_WIDTH, ToyPredictor, verify_search_runner
from hwprof.drivers.host import usable_cpus
from hwprof.errors import HwprofError


def predictor_at(threads: int) -> ToyPredictor:
    """The toy predictor, its training runs at `threads`."""
    predictor = ToyPredictor()
    predictor.doc = {**predictor.doc, "training": {"sources": [{"path": "d.parquet", "runs": [{"threads": threads}]}]}}
    return predictor


@pytest.fixture
def search(tmp_path, monkeypatch):
    return verify_search_runner(tmp_path, monkeypatch)


def test_a_verification_that_fails_keeps_every_finished_trial(search):
    def failing(specs, batch_sizes=(1,), **kwargs):
        raise HwprofError("the candidate could not be measured")

    result, out = search(measure=failing)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the candidate could not be measured" in result.output
    assert f"every finished trial is in {out / 'search.json'}" in " ".join(result.output.split())
    written = json.loads((out / "search.json").read_text())
    assert len(written["trials"]) == 6 and written["verified"] == {}
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_verification_that_holds_rewrites_search_json_with_it(search):
    def measured(specs, batch_sizes=(1,), **kwargs):
        rows = [
            {"model": s.name, "kind": "network", "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width} for s in specs
        ]
        return pd.DataFrame(rows)

    result, out = search(measure=measured)
    assert result.exit_code == 0, result.output
    verified = json.loads((out / "search.json").read_text())["verified"]
    assert [check["holds"] for check in verified.values()] == [True]


def test_a_device_that_is_not_here_is_refused_before_any_trial(search):
    result, out = search("--device", "cuda:99")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cuda:99" in result.output and "trial 0" not in result.output
    assert not out.exists()


def test_a_power_sensor_that_cannot_read_the_device_is_refused_before_any_trial(search):
    result, out = search("--power", "nvml")  # NVML reads NVIDIA GPUs, and --verify measures the CPU
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--power nvml cannot be used" in result.output and "trial 0" not in result.output


def test_the_predictors_thread_count_beyond_the_cpus_here_is_refused_before_any_trial_as_the_predictors(search):
    many = usable_cpus() + 1
    result, _ = search(predictor=predictor_at(many))
    assert result.exit_code == 1 and "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"the predictor was fitted on runs at {many} threads" in said and "trial 0" not in said
    assert "--threads" not in said  # the user gave none
