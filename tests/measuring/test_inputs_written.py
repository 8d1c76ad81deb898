"""A network that writes its inputs in place is timed on what its earlier calls left (an input halved at every call
decays to zeros, which sort faster): measure finds it from its calls, warns once and marks its row."""

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.errors import HwprofWarning

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.1, "threads": 1, "seed": 0, "sweep_share": 0}


class WritesItsInput(nn.Module):
    """Normalises its input in place, as preprocessing code often does."""

    def forward(self, x):
        x.div_(2.0)
        return torch.sort(x).values


def test_a_network_that_writes_its_inputs_is_marked_and_warned_of_once():
    with pytest.warns(HwprofWarning, match=r"writes its inputs in place \(its calls went on changing them\)") as caught:
        frame = hwprof.measure([(WritesItsInput(), torch.randn(1, 1000))], layers=False, batch_sizes=[1, 2], **FAST)
    assert not frame.loc[frame["kind"] == "network", "stable"].any()
    assert sum("writes its inputs" in str(w.message) for w in caught) == 1


def test_a_network_that_leaves_its_inputs_is_not_warned_of(recwarn):
    frame = hwprof.measure([(nn.Linear(4, 4), torch.randn(1, 4))], layers=False, **FAST)
    assert not [w for w in recwarn if "writes its inputs" in str(w.message)]
    assert len(frame) == 1


def test_a_write_that_leaves_the_same_values_at_every_call_is_no_drift(recwarn):
    """A relu_ on the input changes it once; every later call finds it as the call before left it."""
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(64, 64))
    frame = hwprof.measure([(model, torch.randn(1, 64))], layers=False, **FAST)
    assert not [w for w in recwarn if "writes its inputs" in str(w.message)]
    assert len(frame) == 1
