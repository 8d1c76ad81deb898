"""x + y_nhwc is 4-13x the work of x + y, and its recipe draws y NHWC, yet the two shared a config_id: only the
first input's layout entered the config, so whichever was timed first set both rows."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers

NHWC = torch.channels_last


class Adding(nn.Module):
    def forward(self, x, y):
        return x + y


def add_layer(x: torch.Tensor, y: torch.Tensor):
    layers, _ = extract_layers_from_example(Adding(), (x, y), {})
    assert [layer.op for layer in layers] == ["add"]
    return layers[0]


def test_a_second_operand_laid_out_nhwc_is_its_own_config_and_is_drawn_so():
    x, y = torch.randn(1, 8, 5, 5), torch.randn(1, 8, 5, 5)
    in_order, nhwc = add_layer(x, y), add_layer(x, y.contiguous(memory_format=NHWC))
    assert nhwc.config["input_layouts"] == [None, "channels_last"]
    assert "input_layouts" not in in_order.config  # inputs in order: the config they had
    assert in_order.config_id("cpu") != nhwc.config_id("cpu")
    assert [spec.channels_last for spec in nhwc.call.args] == [False, True]


def test_in_a_channels_last_network_an_operand_in_order_is_told_apart():
    x, y = torch.randn(1, 8, 5, 5).contiguous(memory_format=NHWC), torch.randn(1, 8, 5, 5)
    both = add_layer(x, y.contiguous(memory_format=NHWC))
    mixed = add_layer(x, y)
    assert "input_layouts" not in both.config  # a channels-last network's adds keep the config they had
    assert both.config["memory_format"] == "channels_last"
    assert mixed.config["input_layouts"] == [None, "contiguous"]
    assert both.config_id("cpu") != mixed.config_id("cpu")


def test_an_operand_nhwc_and_in_order_at_once_is_as_the_first_says():
    """A per-channel (1, C, 1, 1) scale is laid out both ways: nothing to tell."""
    x = torch.randn(1, 8, 5, 5).contiguous(memory_format=NHWC)
    assert "input_layouts" not in add_layer(x, torch.randn(1, 8, 1, 1)).config


class Mixing(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y + y.contiguous(memory_format=NHWC)


def test_prediction_traces_the_layouts_as_measure_does():
    module = Mixing()
    real, _ = run_and_extract(module, (3, 6, 6), 2)
    predicted = trace_layers(module, (3, 6, 6), 2)
    assert predicted.tensors == "meta"
    assert real[-1].config["input_layouts"] == [None, "channels_last"]
    assert [layer.facts() for layer in predicted.layers] == [layer.facts() for layer in real]
