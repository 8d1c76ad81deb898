"""Helpers shared by the fit benchmarks."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The zoo measured with the allocator pinned, then its networks three times more (fit_measure_data.py).
STEADY_ZOO_RUNS = ["zoo_steady.parquet", *(f"zoo_steady_networks_{run}.parquet" for run in (1, 2, 3))]


def existing(*names: str) -> list[str]:
    """The default datasets under bench/data that have been measured (see fit_measure_data.py)."""
    return [str(DATA / name) for name in names if (DATA / name).exists()]
