"""A float32 run, the default, of a module mostly in a half dtype beside float32 layers (bfloat16 Linears around a
float32 LayerNorm) keeps it as it is, as float32 runs keep every module: most of its work then runs in bfloat16
under rows that say float32. It was silent; it says so, with the shares and the dtype that measures it as it is
(mixes_in's majority rule), and a module mostly in float32 stays unremarked."""

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.models.inputs import check_module_weights

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}
NOTE = r"is run as it is at float32, not converted, though most of its float parameter elements are bfloat16"


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


LINEAR_ELEMENTS = 2 * (64 * 64 + 64)
NORM_ELEMENTS = 2 * 64


def test_a_float32_run_of_a_mostly_bfloat16_module_says_it_keeps_it():
    net = MostlyBfloat16().eval()
    with pytest.warns(HwprofWarning, match=rf"{NOTE} \(98\.5% bfloat16, 1\.5% float32\).*pass dtype=bfloat16"):
        frame = hwprof.measure([(net, torch.randn(1, 64))], layers=False, **FAST)
    network = frame[frame["op"] == "network"].iloc[0]
    assert network["dtype"] == "float32"
    assert network["weight_bytes"] == 2 * LINEAR_ELEMENTS + 4 * NORM_ELEMENTS  # kept as it is, not converted
    assert net.fc1.weight.dtype == torch.bfloat16


def test_predict_says_it_too():
    with pytest.warns(HwprofWarning, match=rf"net {NOTE}.*to predict it as it is, at bfloat16"):
        check_module_weights(MostlyBfloat16(), "float32", "net", "predict")


def test_a_mostly_float32_module_with_a_bfloat16_layer_is_not_remarked(recwarn):
    net = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 2).to(torch.bfloat16))
    check_module_weights(net, "float32", "net", "measure")
    check_module_weights(MostlyBfloat16(), "bfloat16", "net", "measure")  # its own dtype's run: kept_mixed_note's
    assert not [w for w in recwarn if "is run as it is" in str(w.message)]
