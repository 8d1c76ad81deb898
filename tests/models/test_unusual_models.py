"""Models users write that the zoo's do not: buffers used as weights, TorchScript, float64, quantized layers."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class BufferProduct(nn.Module):
    """x @ (b @ b) with b a buffer: both products run every forward."""

    def __init__(self):
        super().__init__()
        self.register_buffer("b", torch.randn(16, 16))

    def forward(self, x):
        return x @ (self.b @ self.b)


def test_ops_on_buffers_alone_are_layers():
    expected = 16 * 16 * 16 + 16 * 16
    layers, method = extract_layers_from_example(BufferProduct(), (torch.randn(1, 16),), {})
    assert method == "fx"
    assert [layer.flops for layer in layers] == [16 * 16 * 16, 16 * 16]
    traced = trace_layers(BufferProduct(), (16,))
    assert sum(layer.flops for layer in traced.layers) == expected
