"""A row combined from several processes keeps each side of their intervals apart: timings' intervals are
lopsided (a slow tail), and laying out their mean width around the median cut the slow side below each
process's own and pushed the fast side below every sample."""

import pandas as pd
import pytest

from hwprof.measuring.processes import _combined_row
from hwprof.measuring.stats import summarize

SKEWED = [1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.01, 1.02, 1.04, 1.06, 1.09, 1.20]  # a timing's right tail


def worker_row(samples: list[float], process: int, stable: bool = True) -> dict:
    summary = summarize(samples)
    return {
        "model": "m",
        "batch_size": 1,
        "seq_len": None,
        "kind": "network",
        "layer_index": -1,
        "latency_ms": summary.median,
        "latency_ms_ci_low": summary.ci_low,
        "latency_ms_ci_high": summary.ci_high,
        "latency_ms_std": summary.std,
        "samples": summary.n,
        "iterations": 1,
        "stable": stable,
        "measure_s": 1.0,
        "other_cpu_share": 0.0,
        "discarded_bursts": 0,
        "power_flags": None,
        "power_w": None,
        "idle_power_w": None,
        "energy_mj": None,
        "dynamic_energy_mj": None,
        "_process": process,
    }


def combined(rows: list[dict], precision: float = 0.06) -> dict:
    return _combined_row(pd.DataFrame(rows), precision)


def test_agreeing_processes_keep_their_own_lopsided_interval():
    own = summarize(SKEWED)
    row = combined([worker_row(SKEWED, 0), worker_row(SKEWED, 1)])
    assert row["latency_ms"] == own.median  # the median is the processes' median, as before
    assert row["latency_ms_ci_high"] == pytest.approx(own.ci_high)  # 1.06, not the 1.035 of the mean width
    assert row["latency_ms_ci_low"] == pytest.approx(own.ci_low)  # 1.00, not 0.975: below every sample
    assert row["latency_ms_ci_low"] >= min(SKEWED)


def test_the_slow_side_alone_can_miss_the_precision():
    # each side's distance 0.005 and 0.055 of 1.005: their mean (0.03) met 4%, the slow side does not
    row = combined([worker_row(SKEWED, 0), worker_row(SKEWED, 1)], precision=0.04)
    assert row["stable"] is False
    assert combined([worker_row(SKEWED, 0), worker_row(SKEWED, 1)], precision=0.06)["stable"] is True


def test_spread_between_processes_widens_both_sides_alike_where_it_is_the_larger():
    fast, slow = SKEWED, [x * 1.02 for x in SKEWED]
    row = combined([worker_row(fast, 0), worker_row(slow, 1)])
    below = row["latency_ms"] - row["latency_ms_ci_low"]
    above = row["latency_ms_ci_high"] - row["latency_ms"]
    assert below == pytest.approx(above) and below > summarize(slow).ci_high - summarize(slow).median


def test_processes_with_too_few_samples_leave_the_row_unbounded():
    row = combined([worker_row(SKEWED[:3], 0), worker_row(SKEWED[:4], 1)])
    assert row["latency_ms_ci_low"] is None and row["latency_ms_ci_high"] is None and row["stable"] is False
