"""Models users write that the zoo's do not: buffers used as weights, TorchScript, float64, quantized layers."""

import pytest
import torch
import torch.nn as nn

from hwprof.errors import HwprofError
from hwprof.models.layers import extract_layers_from_example, run_and_extract
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


def small():
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_module_is_refused_in_one_sentence(how):
    module = torch.jit.script(small()) if how == "script" else torch.jit.trace(small(), torch.randn(1, 8))
    with pytest.raises(HwprofError, match="m.py:ts is a TorchScript module .* pass the eager nn.Module"):
        run_and_extract(module, (8,), 1, label="m.py:ts")
    with pytest.raises(HwprofError, match="TorchScript module"):
        trace_layers(module, (8,), label="m.py:ts")


def test_float64_module_at_a_float32_run_is_refused_in_one_sentence():
    with pytest.raises(HwprofError, match="m.py:f64 holds float64 weights and the run is float32: .*module.float"):
        run_and_extract(small().double(), (8,), 1, label="m.py:f64", dtype=torch.float32)
    layers, _ = run_and_extract(small().double(), (8,), 1, dtype=torch.float64)  # converted for a float64 run
    assert layers[0].config["dtype"] == "float64"
