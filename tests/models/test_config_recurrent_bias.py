"""A recurrent layer's `bias` is a flag, not a tensor: LSTM(bias=False) was recorded as "bias": true and shared its
config_id (and so its timing) with the biased LSTM."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


def only_layer(module: nn.Module, x: torch.Tensor):
    layers, _ = extract_layers_from_example(nn.Sequential(module), (x,), {})
    assert len(layers) == 1
    return layers[0]


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda bias: nn.LSTM(8, 16, batch_first=True, bias=bias), torch.randn(2, 5, 8)),
        (lambda bias: nn.GRU(8, 16, batch_first=True, bias=bias), torch.randn(2, 5, 8)),
        (lambda bias: nn.RNN(8, 16, batch_first=True, bias=bias), torch.randn(2, 5, 8)),
        (lambda bias: nn.LSTMCell(8, 16, bias=bias), torch.randn(2, 8)),
    ],
)
def test_a_recurrent_layer_without_bias_is_recorded_as_such(make, x):
    with_bias, without = only_layer(make(True), x), only_layer(make(False), x)
    assert with_bias.config["bias"] is True
    assert without.config["bias"] is False
    assert with_bias.config_id("cpu") != without.config_id("cpu")


def test_a_linear_layer_still_says_whether_it_has_a_bias():
    x = torch.randn(2, 8)
    assert only_layer(nn.Linear(8, 4), x).config["bias"] is True
    assert only_layer(nn.Linear(8, 4, bias=False), x).config["bias"] is False
