"""Helpers shared by the fit benchmarks."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def existing(*names: str) -> list[str]:
    """The default datasets under bench/data that have been measured (see fit_measure_data.py)."""
    return [str(DATA / name) for name in names if (DATA / name).exists()]
