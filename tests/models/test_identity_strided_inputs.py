"""An input laid out otherwise than in order (a transposed operand of add or softmax, an MoE's strided expert slice)
is other work than one in order, yet only NHWC entered the config and the recipe drew every such input in order."""

import pytest
import torch
import torch.nn as nn

from hwprof.models import layers
from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers


class AddTransposed(nn.Module):
    def forward(self, x, y):
        return x + y.transpose(1, 2)


class AddInOrder(nn.Module):
    def forward(self, x, y):
        return x + y


class SoftmaxTransposed(nn.Module):
    def forward(self, x):
        return torch.softmax(x.transpose(1, 2), dim=-1)


def only_layer(module: nn.Module, *inputs: torch.Tensor):
    layers, _ = extract_layers_from_example(module, inputs, {})
    assert len(layers) == 1
    return layers[0]


def test_a_transposed_second_operand_is_its_own_config_and_is_drawn_so():
    x, y = torch.randn(2, 16, 16), torch.randn(2, 16, 16)
    transposed, in_order = only_layer(AddTransposed(), x, y), only_layer(AddInOrder(), x, y)
    assert transposed.config["input_layouts"] == [None, [256, 1, 16]]
    assert transposed.config_id("cpu") != in_order.config_id("cpu")
    drawn = transposed.call.args[1].make("cpu")
    assert drawn.shape == (2, 16, 16) and drawn.stride() == (256, 1, 16)
    assert transposed.call.bind("cpu")().shape == (2, 16, 16)


def test_inputs_in_order_keep_the_config_they_had():
    layer = only_layer(AddInOrder(), torch.randn(2, 16, 16), torch.randn(2, 16, 16))
    assert set(layer.config) == {"args", "kwargs", "input_shapes", "output_shape"}
    assert all(spec.strides is None for spec in layer.call.args)


def test_a_transposed_first_input_is_its_own_config_and_is_drawn_so():
    layer = only_layer(SoftmaxTransposed(), torch.randn(2, 8, 32))
    assert layer.config["input_strides"] == [256, 1, 32]
    assert layer.call.args[0].make("cpu").stride() == (256, 1, 32)


class Attending(nn.Module):
    """A transformer block's attention and residual add: the add reads the attention's result."""

    def __init__(self, heads: int = 2, batch_first: bool = True):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, heads, batch_first=batch_first)

    def forward(self, x):
        return x + self.attention(x, x, x, need_weights=False)[0]


@pytest.mark.parametrize("heads", [2, 1], ids=["fused", "unfused"])
def test_prediction_lays_out_the_attentions_result_as_measure_does(heads):
    module = Attending(heads)
    real, method = run_and_extract(module, (5, 16), 3)
    predicted = trace_layers(module, (5, 16), 3)
    assert method == "fx" and predicted.tensors == "meta"
    assert [layer.facts() for layer in predicted.layers] == [layer.facts() for layer in real]
    add = real[-1].config
    # the fused kernel writes its result in order; one head (odd) runs unfused, whose result is transposed
    assert ("input_layouts" in add) == (heads == 1)


def test_the_hooks_see_the_attentions_result_laid_out_as_the_network_runs():
    """Under the hooks' torch function mode torch takes the unfused path; the network alone takes the fused one."""
    x = torch.randn(3, 5, 16)
    hooked, method = extract_layers_from_example(Attending().eval(), (), {"x": x})
    assert method == "hooks"
    assert "input_layouts" not in hooked[-1].config


@pytest.mark.parametrize(
    "heads, batch_first, bias, mask",
    [
        (2, True, True, None),
        (1, True, True, None),
        (2, False, True, None),
        (2, True, False, None),
        (2, True, True, torch.bool),
        (2, True, True, torch.float32),
    ],
)
def test_the_fused_path_is_told_as_torch_takes_it(heads, batch_first, bias, mask):
    attention = nn.MultiheadAttention(16, heads, bias=bias, batch_first=batch_first).eval()
    x = torch.randn(3, 5, 16)
    kwargs = {"need_weights": False}
    if mask is not None:
        kwargs["attn_mask"] = torch.zeros(5, 5, dtype=mask)
    with torch.no_grad():
        result = attention(x, x, x, **kwargs)[0]
    # batch first, the unfused path's result is a transposed view, the fused kernel's in order
    assert layers._attention_fused(attention, (x, x, x), kwargs) == (batch_first and result.is_contiguous())
