"""A module mostly in bfloat16 measured at float32 from Python is noted once: measure checked it as given, under
"the Net module", and again once built, under the name its rows get, so the one note came twice, in two labels."""

import warnings

import pytest
import torch
import torch.nn as nn

import hwprof

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}
NOTE = "is run as it is at float32, not converted"


class MostlyBfloat16(nn.Module):
    """bfloat16 Linears around a float32 LayerNorm, whose forward casts to each layer's dtype."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 64).to(torch.bfloat16)
        self.norm = nn.LayerNorm(64)
        self.fc2 = nn.Linear(64, 64).to(torch.bfloat16)

    def forward(self, x):
        x = self.fc1(x.to(torch.bfloat16))
        return self.fc2(self.norm(x.float()).to(torch.bfloat16))


@pytest.mark.parametrize(
    ("model", "settings"),
    [
        ((MostlyBfloat16().eval(), torch.randn(1, 64)), {"layers": True}),
        (MostlyBfloat16().eval(), {"layers": False, "input_shape": (64,)}),
    ],
    ids=["pair-with-layers", "module"],
)
def test_the_note_on_a_mostly_bfloat16_module_is_said_once_under_its_rows_name(model, settings):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame = hwprof.measure(model, **settings, **FAST)
    notes = [str(w.message) for w in seen if NOTE in str(w.message)]
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"{frame['model'].iloc[0]} {NOTE}")
