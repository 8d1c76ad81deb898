"""`compare --fail-above` over many models: each gated item (network rows, model and op means) tested at 5% alone
failed 7 of 30 unchanged reruns of 20 models at samples +-10%; with Holm's correction over the items, none,
while one model 10% slower is still named."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from fakes.runs import LAYERS, synthetic_row, write_run
from hwprof.cli import main
from hwprof.compare import HIGHER, WHOLE_KINDS, _gate_p_value, _holm, compare
from hwprof.dataset import DatasetWriter
from hwprof.samples import RawSamples

MODELS = tuple(f"m{k:02d}" for k in range(20))


def write_models(path, seed, sigma, samples, slow=None):
    """A run of 20 models of a network row and 8 layer rows each, lognormal samples around known medians; the
    model `slow` 10% slower."""
    rng = np.random.default_rng(seed)
    with DatasetWriter(path, {"run_id": f"{path.stem}-{seed}"}) as writer:
        for model in MODELS:
            factor = 1.10 if model == slow else 1.0
            for index in range(-1, LAYERS):
                median_s = 1e-4 * (index + 3) * factor
                drawn = tuple(float(x) for x in median_s * np.exp(rng.normal(0.0, sigma, samples)))
                writer.write([synthetic_row(model, index, drawn)], RawSamples.uniform(drawn, 10))
    return path


def gated_results(report):
    """Every result the gate tests, as the uncorrected gate read them."""
    whole = [entry for entry in report["rows"] if entry["kind"] in WHOLE_KINDS]
    entries = [*whole, *report["models"], *report["ops"]]
    return [entry["latency_ms"] for entry in entries if entry["latency_ms"]["verdict"] not in ("untested",)]


@pytest.mark.parametrize("seed", [2, 3])  # pairs where each item at 5% alone failed the gate
def test_unchanged_reruns_of_20_models_pass_the_gate(tmp_path, seed):
    base = write_models(tmp_path / "base.parquet", 1000 + seed, 0.10, 20)
    new = write_models(tmp_path / "new.parquet", 2000 + seed, 0.10, 20)
    report = compare(base, new, fail_above=0.05)
    results = gated_results(report)
    assert report["gate"]["tested"] == len(results) == 42  # 20 networks, 20 models, the network and linear ops
    assert any(result["verdict"] == HIGHER and result["ratio"] > 1.05 for result in results)
    assert report["gate"]["regressions"] == []


def test_a_passing_gate_says_its_comparisons_were_holm_corrected(tmp_path):
    base, new = (write_run(tmp_path / f"{name}.parquet", seed=seed) for name, seed in (("base", 1), ("new", 2)))
    result = CliRunner().invoke(main, ["compare", str(base), str(new), "--fail-above", "5%"])
    assert result.exit_code == 0, result.output
    assert "comparisons tested, Holm-corrected)" in result.output


def test_one_model_10_percent_slower_among_20_fails_the_gate_and_is_named(tmp_path):
    base = write_models(tmp_path / "base.parquet", 1000, 0.02, 40)
    new = write_models(tmp_path / "new.parquet", 2000, 0.02, 40, slow="m07")
    result = CliRunner().invoke(main, ["compare", str(base), str(new), "--fail-above", "5%", "--json"])
    assert result.exit_code == 1, result.output
    gate = json.loads(result.stdout)["gate"]
    assert gate["correction"] == "holm"
    labels = [regression["label"] for regression in gate["regressions"]]
    assert "model m07" in labels and "m07 batch 1 network" in labels
    assert all("m07" in name for name in labels)
    for regression in gate["regressions"]:  # each below Holm's smallest threshold, as every other item is larger
        assert 0 <= regression["gate_p_value"] < 0.05 / gate["tested"]


def test_holm_rejects_step_down_until_the_first_p_value_above_its_threshold():
    # sorted: 0.005 < 0.05/4, 0.01 < 0.05/3, then 0.03 is not below 0.05/2: it and 0.04 stand
    assert _holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert _holm([0.049]) == [True]  # one item: the plain 5% test
    assert _holm([]) == []


@pytest.mark.parametrize("low, high", [(1.01, 1.2), (0.99, 1.2), (0.7, 0.98), (0.8, 1.0)])
def test_a_row_decided_by_its_interval_has_a_p_value_below_5_percent_exactly_where_it_excludes_1(low, high):
    ratio = math.sqrt(low * high)
    p_value = _gate_p_value({"ratio": ratio, "ci_low": low, "ci_high": high, "p_value": None}, "row")
    assert (p_value < 0.05) == (not low <= 1 <= high)


def test_a_row_sized_by_the_spread_between_runs_takes_students_t_with_its_degrees_of_freedom():
    """An interval 2 half-widths from 1 at 2 degrees of freedom is a t of 8.6 (p 0.013), not the normal's z of
    3.9 (p 0.0001), which would clear Holm's threshold for 42 items on an unchanged network's energy."""
    result = {"ratio": math.exp(0.2), "ci_low": math.exp(0.1), "ci_high": math.exp(0.3), "p_value": None}
    assert _gate_p_value(result | {"degrees_of_freedom": 2}, "row") == pytest.approx(0.01324, rel=1e-3)
    assert _gate_p_value(result | {"degrees_of_freedom": 4}, "row") == pytest.approx(0.005147, rel=1e-3)
    assert _gate_p_value(result, "row") == pytest.approx(8.858e-5, rel=1e-3)  # --processes: no degrees of freedom


def test_the_gate_judges_rises_by_their_one_sided_p_value(tmp_path):
    """The gate fails on rises alone: a two-sided p doubled each item's p before Holm's thresholds, and this pair's
    10% slower model (samples +-15%) passed the gate with it."""
    base = write_models(tmp_path / "base.parquet", 1003, 0.15, 20)
    new = write_models(tmp_path / "new.parquet", 2003, 0.15, 20, slow="m07")
    regressions = compare(base, new, fail_above=0.05)["gate"]["regressions"]
    assert [regression["label"] for regression in regressions] == ["model m07"]
    assert regressions[0]["gate_p_value"] == pytest.approx(regressions[0]["p_value"] / 2)
