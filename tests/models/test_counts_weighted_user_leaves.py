"""A user's module without children but with weights (a projection x @ W, GPT-OSS's experts) is one layer of the
forward hooks: its MACs are those of the functions its forward runs, as torch.fx records them, not one per output
element."""

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from hwprof.models.inputs import InputSpec, ModelInputs
from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Projection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(64, 48))

    def forward(self, x):
        return x @ self.weight


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = Projection()
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.proj(x))


MACS = 2 * 10 * 64 * 48


def test_a_weighted_leaf_counts_its_functions_on_both_paths():
    module, x = Net().eval(), torch.randn(2, 10, 64)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() // 2 == MACS
    traced, method = extract_layers_from_example(module, (x,), {})
    hooked, hooks = extract_layers_from_example(module, (), {"x": x})
    assert (method, hooks) == ("fx", "hooks")
    assert [(layer.op, layer.flops) for layer in traced] == [("matmul", MACS), ("relu", x.numel() // 64 * 48)]
    assert [(layer.op, layer.flops, layer.params) for layer in hooked][0] == ("projection", MACS, 64 * 48)


def test_prediction_counts_it_on_meta():
    keyword = ModelInputs((InputSpec("x", torch.float32, (10, 64)),))
    trace = trace_layers(Net(), keyword, 2)
    assert (trace.method, trace.tensors) == ("hooks", "meta")
    assert [(layer.op, layer.flops) for layer in trace.layers][0] == ("projection", MACS)
