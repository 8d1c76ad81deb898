"""A torch.nn leaf given as the whole network (an nn.MultiheadAttention, a convolution) is recorded as the layer
it is inside a network, with its op and MACs, on real tensors (measure) as on meta (predict)."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.inputs import InputSpec, ModelInputs
from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers

# nn.MultiheadAttention(64, 4) on 32 tokens: three input projections and the output projection (4 T E^2), the
# scores and the weighted values (2 T^2 E)
ATTENTION_MACS = 4 * 32 * 64 * 64 + 2 * 32 * 32 * 64  # 655,360


class Wrapped(nn.Module):
    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, *args):
        return self.layer(*args)


def what_it_records(layers) -> list[tuple]:
    """A layer's facts but its name, which is the attribute's inside a network."""
    return [(layer.op, layer.config_json(), layer.flops, layer.input_bytes, layer.output_bytes) for layer in layers]


@pytest.mark.parametrize(
    "layer, shapes",
    [
        (nn.MultiheadAttention(64, 4, batch_first=True), [(32, 64)] * 3),
        (nn.Conv2d(3, 8, 3), [(3, 16, 16)]),
        (nn.LSTM(8, 16, batch_first=True), [(5, 8)]),
    ],
)
def test_a_torch_nn_leaf_alone_is_recorded_as_it_is_inside_a_network(layer, shapes):
    layer.eval()
    inputs = tuple(torch.randn(1, *shape) for shape in shapes)
    alone, _ = extract_layers_from_example(layer, inputs, {})
    wrapped, _ = extract_layers_from_example(Wrapped(layer).eval(), inputs, {})
    assert what_it_records(alone) == what_it_records(wrapped)
    specs = ModelInputs(tuple(InputSpec(None, torch.float32, shape) for shape in shapes))
    assert what_it_records(trace_layers(layer, specs, 1).layers) == what_it_records(wrapped)


def test_attention_alone_counts_its_macs_on_real_tensors_and_on_meta():
    attention = nn.MultiheadAttention(64, 4, batch_first=True).eval()
    x = torch.randn(1, 32, 64)
    (real,), _ = extract_layers_from_example(attention, (x, x, x), {})
    specs = ModelInputs(tuple(InputSpec(None, torch.float32, (32, 64)) for _ in range(3)))
    (meta,) = trace_layers(attention, specs, 1).layers
    assert (real.op, real.flops) == (meta.op, meta.flops) == ("multiheadattention", ATTENTION_MACS)


class Pooling(nn.Module):
    """Attention called through its function, as CLIP's attention pooling calls it (sequence first)."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(64, 4)

    def forward(self, x):
        if x.shape[0] == 0:  # untraceable: hooks and the function mode see the call
            return x
        a = self.attention
        return F.multi_head_attention_forward(
            x,
            x,
            x,
            64,
            4,
            a.in_proj_weight,
            a.in_proj_bias,
            None,
            None,
            False,
            0.0,
            a.out_proj.weight,
            a.out_proj.bias,
            training=False,
            need_weights=False,
        )[0]


def test_the_attention_function_called_directly_counts_the_modules_macs():
    layers, _ = extract_layers_from_example(Pooling().eval(), (torch.randn(32, 1, 64),), {})
    assert [(layer.op, layer.flops) for layer in layers] == [("multiheadattentionforward", ATTENTION_MACS)]
