"""A statically quantized (int8) network: its layers run alone on int8 inputs quantized as the network's were, and
its convolutions count the MACs of the float convolution they stand for."""

import warnings

import pytest
import torch
import torch.nn as nn
from torch.ao.quantization import DeQuantStub, QuantStub, convert, get_default_qconfig, prepare

from hwprof.models.layers import UncountedModuleWarning, extract_layers_from_example

ENGINE = torch.backends.quantized.engine


@pytest.fixture
def int8_convolution():
    if ENGINE == "none":
        pytest.skip("this torch has no quantized engine")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own notes on its quantization API
        module = nn.Sequential(QuantStub(), nn.Conv2d(3, 8, 3), nn.ReLU(), DeQuantStub()).eval()
        module.qconfig = get_default_qconfig(ENGINE)
        prepare(module, inplace=True)
        module(torch.rand(1, 3, 32, 32))  # calibration
        yield convert(module)


def test_an_int8_network_is_recorded_with_its_convolutions_macs_and_no_note(int8_convolution):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedModuleWarning)
        layers, _ = extract_layers_from_example(int8_convolution, (torch.rand(1, 3, 32, 32),), {})
    ops = {layer.op: layer for layer in layers}
    assert {"quantize", "conv2d", "dequantize"} <= set(ops)
    conv = ops["conv2d"]
    assert conv.flops == 8 * 30 * 30 * 3 * 3 * 3  # 194,400, as nn.Conv2d(3, 8, 3) counts
    assert conv.params == 8 * 3 * 3 * 3 + 8  # its packed int8 weight and its bias
    assert (conv.config["dtype"], conv.config["weight_dtype"]) == ("quint8", "qint8")


def test_an_int8_networks_layers_run_alone(int8_convolution):
    layers, _ = extract_layers_from_example(int8_convolution, (torch.rand(1, 3, 32, 32),), {})
    for layer in layers:
        output = layer.call.bind("cpu")()
        assert list(output.shape) == layer.config["output_shape"]
