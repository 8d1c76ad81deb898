"""--verify measures at the precision `hwprof measure` does: it restated measure's 0.02 as its own literal, which a
change of the measuring default would have left behind."""

import importlib
import inspect

import hwprof.search.verify
from hwprof.measuring.runner import Method


def test_verify_takes_its_precision_from_the_measuring_default(monkeypatch):
    monkeypatch.setattr(Method, "precision", 0.05)  # a measuring default that has moved
    try:
        reloaded = importlib.reload(hwprof.search.verify)
        assert inspect.signature(reloaded.verify_candidates).parameters["precision"].default == 0.05
    finally:
        monkeypatch.undo()
        importlib.reload(hwprof.search.verify)
