"""A function torch.fx.wrap keeps whole (torchvision's Swin window attention) is one call in the traced graph: its
layer counts the MACs of the torch functions it runs, as the forward hooks' path counts them one by one."""

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


def attend(x, weight):
    """Projection, scores and weighted values: matrix products only, which FlopCounterMode counts."""
    q = F.linear(x, weight)
    return (q @ q.transpose(-2, -1)) @ q


torch.fx.wrap("attend")


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(32, 32))

    def forward(self, x):
        return attend(x, self.weight)


def counted_macs(module, x):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def test_a_wrapped_function_counts_the_macs_of_what_it_runs():
    module, x = Attention().eval(), torch.randn(2, 16, 32)
    truth = counted_macs(module, x)
    assert truth == 2 * 16 * 32 * 32 + 2 * (2 * 16 * 16 * 32)
    traced, method = extract_layers_from_example(module, (x,), {})
    hooked, hooks = extract_layers_from_example(module, (), {"x": x})
    meta = trace_layers(module, (16, 32), 2)
    assert (method, hooks, meta.method, meta.tensors) == ("fx", "hooks", "fx", "meta")
    assert [(layer.op, layer.flops) for layer in traced] == [("attend", truth)]
    assert [(layer.op, layer.flops) for layer in meta.layers] == [("attend", truth)]
    assert sum(layer.flops for layer in hooked) == truth
