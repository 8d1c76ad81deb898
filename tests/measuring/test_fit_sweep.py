"""The layer sweep `measure` adds by default: which ops, within what share of the run, recorded and resumable."""

import json

import pandas as pd
import pytest
import torch.nn as nn
from click.testing import CliRunner

import hwprof
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring import fit_sweep

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0)


def test_ops_are_the_networks_costliest_first_without_sweeps_or_ops_swept_already():
    rows = pd.DataFrame(
        {
            "kind": ["layer", "layer", "layer", "layer", "network", "layer"],
            "model": ["a", "a", "b", "sweep:relu:2:0", "a", "a"],
            "op": ["relu", "conv2d", "conv2d", "relu", None, "flatten"],
            "latency_ms": [1.0, 2.0, 3.0, 50.0, 9.0, 99.0],
        }
    )
    assert fit_sweep.ops_to_sweep(rows, set()) == ["conv2d", "relu"]  # flatten has no sampler
    assert fit_sweep.ops_to_sweep(rows, {"conv2d"}) == ["relu"]
    assert fit_sweep.ops_to_sweep(rows.iloc[:0], set()) == []


def test_reruns_of_the_same_models_draw_the_same_rounds_and_runs_of_other_models_draw_others():
    seed = fit_sweep.first_seed(["resnet18", "vgg11"])
    assert fit_sweep.first_seed(["vgg11", "resnet18"]) == seed  # the order models are named in does not matter
    others = {fit_sweep.first_seed([name]) for name in ("resnet18", "vgg11", "alexnet", "mobilenet_v2", "hf:bert")}
    assert len(others | {seed}) == 6
    assert fit_sweep.round_name("conv2d", 3, seed) == f"sweep:conv2d:{fit_sweep.ROUND_CONFIGS}:{seed + 3}"
    assert all(s % fit_sweep.MAX_ROUNDS == 0 for s in others)  # a run's rounds never reach another's seeds


def test_budget_makes_the_sweep_that_share_of_the_whole_run():
    budget = fit_sweep.budget_s(0.2, 40.0)
    assert budget / (budget + 40.0) == pytest.approx(0.2)
    assert fit_sweep.budget_s(0.0, 40.0) == 0.0


def _tiny():
    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))


def test_measure_adds_the_sweep_within_its_share_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    out = tmp_path / "tiny.parquet"
    frame = hwprof.measure([_tiny()], out=str(out), input_shape=(32,), **FAST)
    sweeps = frame[frame["model"].astype(str).str.startswith("sweep:")]
    assert len(sweeps) and set(sweeps["kind"]) == {"layer"}
    assert set(sweeps["op"]) <= {"linear", "relu"}
    seed = fit_sweep.first_seed(sorted(set(frame.loc[frame["kind"] == "network", "model"].astype(str))))
    assert set(sweeps["model"]) <= {
        fit_sweep.round_name(op, k, seed) for op in ("linear", "relu") for k in range(fit_sweep.MAX_ROUNDS)
    }
    record = json.loads((tmp_path / "tiny.parquet.json").read_text())["runs"][-1]["fit_sweep"]
    assert record["configurations"] == len(sweeps)
    assert record["ops"][0] in ("linear", "relu") and record["share_allowed"] == fit_sweep.DEFAULT_SWEEP_SHARE
    assert 0 < record["sweep_s"] and 0 < record["share"] < 1


def test_a_share_of_zero_adds_no_sweep_and_a_short_run_says_why_it_has_none(tmp_path, capsys):
    frame = hwprof.measure([_tiny()], input_shape=(32,), sweep_share=0, **FAST)
    assert not frame["model"].astype(str).str.startswith("sweep:").any()
    out = tmp_path / "short.parquet"
    frame = hwprof.measure([_tiny()], out=str(out), input_shape=(32,), **FAST)
    assert not frame["model"].astype(str).str.startswith("sweep:").any()
    record = json.loads((tmp_path / "short.parquet.json").read_text())["runs"][-1]["fit_sweep"]
    assert "share of the run is" in record["skipped_reason"]


def test_resume_keeps_the_sweep_rows_measured_before(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    out = tmp_path / "tiny.parquet"
    first = hwprof.measure([_tiny()], out=str(out), input_shape=(32,), **FAST)
    again = hwprof.measure([_tiny()], out=str(out), resume=True, input_shape=(32,), **FAST)
    kept = first[first["model"].astype(str).str.startswith("sweep:")]
    assert set(kept["config_id"]) <= set(again["config_id"])
    assert not again.duplicated(["model", "batch_size", "kind", "layer_index"]).any()


def test_a_run_interrupted_before_its_sweep_measures_it_on_resume_from_the_time_its_networks_took(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    out = tmp_path / "tiny.parquet"
    first = hwprof.measure(["mlp"], out=str(out), sweep_share=0, **FAST)  # as if stopped after the networks
    timed_s = first.drop_duplicates("config_id")["measure_s"].sum()
    resumed = hwprof.measure(["mlp"], out=str(out), resume=True, **FAST)
    assert resumed["model"].astype(str).str.startswith("sweep:").any()
    record = json.loads((tmp_path / "tiny.parquet.json").read_text())["runs"][-1]["fit_sweep"]
    # the networks' time sizes the budget (recorded to the millisecond)
    assert record["configurations"] > 0 and record["networks_s"] >= timed_s - 1e-3


@pytest.mark.parametrize("share", [-0.1, 1.0, 2])
def test_a_share_out_of_range_is_refused_in_one_sentence(share, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the command's default output, checked first, is in the working folder
    with pytest.raises(HwprofError, match="sweep_share"):
        hwprof.measure([_tiny()], input_shape=(32,), sweep_share=share, **FAST)
    result = CliRunner().invoke(main, ["measure", "mlp", "--sweep-share", str(share), "--power", "none"])
    assert result.exit_code != 0 and "Traceback" not in result.output and "sweep" in result.output
