"""`hwprof compare` sizes its intervals for the spread between runs and processes, and gates on more than the
threshold, not on float round-off at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.runs import synthetic_row
from hwprof.compare import _interval_test, compare
from hwprof.dataset import DatasetWriter
from hwprof.measuring.stats import combine_processes
from hwprof.samples import RawSamples


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
