"""Helpers shared by the fit benchmarks."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The zoo measured with the allocator pinned, then its networks three times more (fit_measure_data.py).
STEADY_ZOO_RUNS = ["zoo_steady.parquet", *(f"zoo_steady_networks_{run}.parquet" for run in (1, 2, 3))]
# The 100 NB-201 cells, four one-thread runs on a quiet machine (fit_measure_data.py --only nb201_t1).
NB201_ONE_THREAD_RUNS = [f"nb201_t1/run{run}.parquet" for run in (1, 2, 3, 4)]
# The zoo and all sweeps in one interleaved process, three times (fit_measure_data.py): fit_accuracy's default.
TOGETHER_RUNS = ["together.parquet", "together_2.parquet", "together_3.parquet"]


def existing(*names: str) -> list[str]:
    """The default datasets under bench/data that have been measured (see fit_measure_data.py)."""
    return [str(DATA / name) for name in names if (DATA / name).exists()]
