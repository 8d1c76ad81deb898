"""pyproject.toml's lower bounds are versions hwprof was run on, not hopes."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the oldest release of each that hwprof was run end to end on, and what failed below it
VERIFIED_LOWER_BOUNDS = {
    "torch": "2.1",  # measure, fit, predict, show and report on torch 2.1.2 (JetPack 5/6 ship 2.1-2.3)
    "pandas": "2.2",  # fit: a nullable boolean's to_numpy() gave objects before 2.2
    "optuna": "5.0",  # search: Trial.set_constraint; --storage FILE: optuna.storages.journal (4.0)
}


def test_the_declared_lower_bounds_are_the_verified_ones():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = dict(re.fullmatch(r"([\w-]+)>=([\d.]+)", requirement).groups() for requirement in declared)
    assert {name: bounds[name] for name in VERIFIED_LOWER_BOUNDS} == VERIFIED_LOWER_BOUNDS
