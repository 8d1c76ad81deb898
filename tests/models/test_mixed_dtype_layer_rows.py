"""A bfloat16 run of a module kept as it is (mostly bfloat16, a float32 LayerNorm) records its float32 layer's dtype
in the layer's config, which fit's features read, and the run's dtype in the dtype column, by which fit names the
network its rows belong to: a column of the layer's own dtype took the LayerNorm out of its network. The run's
note says where each layer's dtype is."""

import json

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.fitting.data import with_variant_names
from hwprof.predictor.features import indicator_names

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


class Float32Norm(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.ln = nn.LayerNorm(n)

    def forward(self, x):
        return self.ln(x.float()).to(x.dtype)


def test_a_float32_layer_of_a_bfloat16_run_says_float32_where_fit_reads_it():
    net = nn.Sequential(nn.Linear(16, 32), Float32Norm(32), nn.Linear(32, 8)).eval()
    net[0].to(torch.bfloat16)
    net[2].to(torch.bfloat16)
    with pytest.warns(HwprofWarning, match=r"their rows' config says which \(the dtype column is the run's\)"):
        frame = hwprof.measure([(net, torch.randn(1, 16, dtype=torch.bfloat16))], dtype="bfloat16", **FAST)
    named = with_variant_names(frame)
    assert named["model"].nunique() == 1  # every layer row names the network it ran in
    norm = frame[frame["op"] == "layernorm"].iloc[0]
    assert "dtype_bfloat16" not in indicator_names(json.loads(norm["config"]))  # fit learns it as float32
    linear = frame[frame["op"] == "linear"].iloc[0]
    assert "dtype_bfloat16" in indicator_names(json.loads(linear["config"]))
