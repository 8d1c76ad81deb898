"""A model that runs torch.autocast inside its own forward (AMP inference) runs its network in bfloat16 while its
layers, found and timed alone, run outside that autocast in float32, and every row says float32: measure warns."""

import pytest
import torch
import torch.nn as nn

import hwprof
from fakes.progress import Notes

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


class Amp(nn.Module):
    def __init__(self, autocast: bool):
        super().__init__()
        self.autocast = autocast
        self.net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast):
            return self.net(x)


@pytest.mark.parametrize("autocast", [True, False], ids=["autocast", "none"])
def test_a_model_that_autocasts_in_its_forward_is_warned_of_once(autocast):
    notes = Notes()
    frame = hwprof.measure([(Amp(autocast), torch.randn(2, 32))], batch_sizes=[1, 2], progress=notes, **FAST)
    assert (frame["dtype"] == "float32").all()
    said = [note for note in notes.notes if "outside that autocast" in note]
    assert len(said) == (1 if autocast else 0)
    if autocast:
        assert said[0].startswith("warning: Amp#") and "computes in bfloat16 where the run is float32" in said[0]


class AmpFloatOut(Amp):
    """Autocast inside, float32 logits out, as most AMP inference code returns them."""

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = self.net(x)
        return y.float()


def test_a_model_that_autocasts_and_returns_float32_is_warned_of_too():
    notes = Notes()
    hwprof.measure([(AmpFloatOut(True), torch.randn(1, 32))], progress=notes, **FAST)
    said = [note for note in notes.notes if "outside that autocast" in note]
    assert len(said) == 1 and "computes in bfloat16 where the run is float32" in said[0]


def test_a_model_run_in_the_dtype_it_autocasts_to_is_not_warned_of():
    notes = Notes()
    hwprof.measure([(Amp(True), torch.randn(1, 32))], layers=False, dtype="bfloat16", progress=notes, **FAST)
    assert not [note for note in notes.notes if "autocast" in note]
