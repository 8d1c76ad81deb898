"""quantize_dynamic(..., dtype=torch.float16) holds a Linear's weights packed in float16, but torch unpacks them as
float32: the layer was recorded as weight_dtype float32 with twice its weight bytes."""

import warnings

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example, module_weights

IN, OUT = 16, 32


def quantized(dtype: torch.dtype) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(IN, OUT)), {nn.Linear}, dtype=dtype)


def linear(dtype: torch.dtype):
    layers, _ = extract_layers_from_example(quantized(dtype), (torch.randn(2, IN),), {})
    (layer,) = [layer for layer in layers if layer.op == "linear"]
    return layer


def test_a_float16_dynamic_linear_is_recorded_at_float16():
    layer = linear(torch.float16)
    assert layer.config["weight_dtype"] == "float16"
    assert layer.params == IN * OUT + OUT
    assert layer.weight_bytes == IN * OUT * 2 + OUT * 4  # the bias stays float32
    parameters, _ = module_weights(quantized(torch.float16))
    assert sum(t.numel() * t.element_size() for t in parameters) == IN * OUT * 2 + OUT * 4


def test_an_int8_dynamic_linear_is_recorded_as_before():
    layer = linear(torch.qint8)
    assert layer.config["weight_dtype"] == "qint8"
    assert layer.weight_bytes == IN * OUT + OUT * 4
