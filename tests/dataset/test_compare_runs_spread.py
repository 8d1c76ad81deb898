"""`hwprof compare` sizes its intervals for the spread between runs and processes, and gates on more than the
threshold, not on float round-off at it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fakes.runs import synthetic_row, write_run
from hwprof.compare import _interval_test, _sample_test, compare
from hwprof.dataset import DatasetWriter, merge_datasets
from hwprof.measuring.stats import combine_processes
from hwprof.samples import RawSamples


def _runs(medians: list[float], seed: int) -> list[np.ndarray]:
    """One tight run (1% lognormal, 60 samples) around each median."""
    rng = np.random.default_rng(seed)
    return [median * np.exp(rng.normal(0.0, 0.01, 60)) for median in medians]


def test_reruns_that_differ_by_their_run_offsets_are_not_a_change():
    """Three BASE runs 5% apart and one NEW run inside their spread: pooled, the U test and a bootstrap of
    three runs called this higher, though a rerun moves that much."""
    result = _sample_test(_runs([1.0, 1.05, 0.95], 1), _runs([1.04], 2), seed=["row"])
    assert result["verdict"] == "not significant"
    assert result["p_value"] is None  # samples of different runs are not independent draws
    assert result["ci_low"] < 1 < result["ci_high"]


def test_a_change_well_beyond_the_run_spread_is_still_found():
    result = _sample_test(_runs([1.0, 1.05, 0.95], 3), _runs([1.3, 1.35, 1.25], 4), seed=["row"])
    assert result["verdict"] == "higher" and result["ci_low"] > 1.1


def test_two_runs_against_one_are_untested_and_a_gate_on_a_risen_network_cannot_decide(tmp_path):
    """With one degree of freedom Student's t is 12.7: two BASE runs 5% apart against one NEW run 60% slower read
    as not significant (0.91-2.67), and a gate on network rows alone passed it."""
    result = _sample_test(_runs([1.0, 1.05], 7), _runs([1.6], 8), seed=["row"])
    assert result["verdict"] == "untested" and result["why"].startswith("two runs against one")
    shards = [write_run(tmp_path / f"b{k}.parquet", factor=f, sigma=0.01, seed=k) for k, f in enumerate((1.0, 1.05))]
    merge_datasets(shards, tmp_path / "base.parquet")
    new = write_run(tmp_path / "new.parquet", factor=1.6, sigma=0.01, seed=9)
    report = compare(tmp_path / "base.parquet", new)
    network = next(row for row in report["rows"] if row["kind"] == "network")
    assert network["latency_ms"]["verdict"] == "untested"


def test_single_runs_keep_the_rank_test():
    result = _sample_test(_runs([1.0], 5), _runs([1.04], 6), seed=["row"])
    assert result["verdict"] == "higher" and result["p_value"] < 0.05


def test_a_merged_baseline_does_not_gate_a_rerun_within_its_run_spread(tmp_path):
    """End to end: BASE merged from three reruns whose every median moved by its run's offset, NEW one more
    rerun 6% above BASE's median run; before, every row was called higher and the 5% gate failed on the
    network. (The per-model and per-op summaries still see a whole run's offset as a change: their interval
    spans rows, which moved together.)"""
    shards = [
        write_run(tmp_path / f"b{index}.parquet", factor=factor, sigma=0.01, seed=index)
        for index, factor in enumerate((1.0, 1.03, 0.97))
    ]
    merge_datasets(shards, tmp_path / "base.parquet")
    new = write_run(tmp_path / "new.parquet", factor=1.06, sigma=0.01, seed=9)
    report = compare(tmp_path / "base.parquet", new, fail_above=0.05)
    assert {row["latency_ms"]["verdict"] for row in report["rows"]} == {"not significant"}
    assert [entry for entry in report["gate"]["regressions"] if entry["where"] == "row"] == []


def _process_row(side: str, medians: list[float]) -> dict:
    center, half = combine_processes(medians, [0.002] * len(medians))
    return {
        f"latency_ms_ci_low_{side}": center - half,
        f"latency_ms_ci_high_{side}": center + half,
        f"processes_{side}": len(medians),
        "center": center,
    }


def test_rows_of_several_processes_count_their_spread_once():
    """Each row's half-width is already for the difference of two medians; summed whole in quadrature, a
    20% rise over 3% process spread came out not significant."""
    spread = (1.0, 1.03, 0.97)
    base, new = _process_row("base", list(spread)), _process_row("new", [1.2 * m for m in spread])
    result = _interval_test(base, new, new["center"] / base["center"])
    assert result["verdict"] == "higher"
    assert result["ci_low"] < 1.2 < result["ci_high"]


def _one_network(path: Path, median_ms: float) -> Path:
    """One network run whose samples' median is exactly `median_ms`, 30 tight samples either side."""
    median_s = median_ms / 1e3
    samples = [median_s * (1 + sign * 0.001 * (k + 1)) for sign in (-1, 1) for k in range(30)] + [median_s]
    with DatasetWriter(path, {"run_id": path.stem}) as writer:
        writer.write([synthetic_row("netB", -1, samples)], RawSamples.uniform(tuple(samples), 1))
    return path


@pytest.mark.parametrize(("base_ms", "new_ms"), [(2.26, 2.373), (2.0, 2.1)])
def test_an_exact_five_percent_rise_passes_a_five_percent_gate(tmp_path, base_ms, new_ms):
    report = compare(
        _one_network(tmp_path / "base.parquet", base_ms),
        _one_network(tmp_path / "new.parquet", new_ms),
        fail_above=0.05,
    )
    (row,) = report["rows"]
    assert row["latency_ms"]["verdict"] == "higher" and row["latency_ms"]["ratio"] == pytest.approx(1.05, rel=1e-12)
    assert report["gate"]["regressions"] == []


def test_a_rise_just_above_the_threshold_still_fails(tmp_path):
    report = compare(
        _one_network(tmp_path / "base.parquet", 2.26), _one_network(tmp_path / "new.parquet", 2.3731), fail_above=0.05
    )
    assert len(report["gate"]["regressions"]) == 1
