"""A reduction reads every element of its input into one output, whichever dimensions it reduces: a mean over
tokens (MLP-Mixer's and ViT's average pool) counts as many MACs as the same mean over height and width, which is
recorded as a global average pool, not its output's few elements."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Call(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


CASES = {  # (fn, op) on a (2, 49, 64) input: 6272 elements read
    "mean over tokens": (lambda x: x.mean(1), "mean"),
    "sum over the last": (lambda x: x.sum(-1), "sum"),
    "amax": (lambda x: torch.amax(x, (1, 2)), "amax"),
    "max with indices": (lambda x: torch.max(x, 1).values, "max"),
    "variance": (lambda x: x.var(-1), "var"),
    "vector norm": (lambda x: torch.linalg.vector_norm(x, dim=-1), "linalgvectornorm"),
    "everything": (lambda x: x.sum(), "sum"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_reduction_counts_the_elements_it_reads(case):
    fn, op = CASES[case]
    x = torch.randn(2, 49, 64)
    real, method = extract_layers_from_example(Call(fn), (x,), {})
    meta = trace_layers(Call(fn), (49, 64), 2)
    assert (method, meta.tensors) == ("fx", "meta")
    assert [(layer.op, layer.flops) for layer in real][0] == (op, x.numel())
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]


def test_the_greater_of_two_tensors_counts_by_element():
    class Greater(nn.Module):
        def forward(self, a, b):
            return torch.max(a, b)

    a = torch.randn(2, 8)
    (layer,), _ = extract_layers_from_example(Greater(), (a, torch.randn(8)), {})
    assert (layer.op, layer.flops) == ("max", 16)
