"""A module its user torch.compile'd (dynamo's OptimizedModule) compiles at its first call: timed as it was, that
call was a sample (a 1.8 s compile taken as the latency of a 0.4 ms network), and its rows said compiled False.
It is now compiled before timing, as --compile does, its network row says compiled, and its layers are the
eager module's."""

import pytest
import torch
import torch.nn as nn

import hwprof
from fakes.progress import Notes
from hwprof.measuring.runner import Runner

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


@pytest.fixture
def compiled(monkeypatch):
    """A small CNN compiled with a backend that needs no C compiler, and when dynamo compiled it: before the
    timing started, or during it."""
    when = []
    timing = []

    def backend(graph, example_inputs):
        when.append("timing" if timing else "before")
        return graph.forward

    measure = Runner.measure

    def timed(self, *args, **kwargs):
        timing.append(True)
        try:
            return measure(self, *args, **kwargs)
        finally:
            timing.clear()

    monkeypatch.setattr(Runner, "measure", timed)
    torch._dynamo.reset()
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    yield torch.compile(net, backend=backend), when
    torch._dynamo.reset()


def test_a_compiled_module_is_compiled_before_timing_and_its_network_row_says_so(compiled):
    module, when = compiled
    notes = Notes()
    frame = hwprof.measure([(module, torch.randn(1, 3, 8, 8))], progress=notes, **FAST)
    assert when and "timing" not in when  # compiled once before, never inside a timed sample
    network = frame[frame["kind"] == "network"]
    layers = frame[frame["kind"] == "layer"]
    assert network["compiled"].all() and not layers["compiled"].any()
    assert sorted(layers["layer_name"]) == ["0", "1", "2", "3"]  # the eager module's layers, not _orig_mod's
    assert sum("torch.compile'd already" in note for note in notes.notes) == 1


def test_a_compiled_module_is_not_compiled_again_by_compile(compiled, monkeypatch):
    module, when = compiled
    monkeypatch.setattr(torch, "compile", lambda *args, **kwargs: pytest.fail("compiled a second time"))
    frame = hwprof.measure([(module, torch.randn(1, 3, 8, 8))], layers=False, compile=True, **FAST)
    assert frame["compiled"].all() and when == ["before"]
