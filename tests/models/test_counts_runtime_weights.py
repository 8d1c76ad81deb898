"""A convolution's weight computed in forward (timm's StdConv2d, BiT and NFNet standardise theirs) is still its
weight: the layer's params and weight_bytes count it, and its input_bytes do not, on torch.fx as on the hooks."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class StandardisedConv(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        w = (w - w.mean((1, 2, 3), keepdim=True)) / (w.std((1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


PARAMS = 16 * 8 * 3 * 3 + 16


def net():
    return nn.Sequential(StandardisedConv(8, 16, 3, padding=1), nn.ReLU()).eval()


def test_a_weight_computed_in_forward_is_counted_as_the_convolutions():
    x = torch.randn(1, 8, 12, 12)
    traced, method = extract_layers_from_example(net(), (x,), {})
    hooked, hooks = extract_layers_from_example(net(), (), {"input": x})
    assert (method, hooks) == ("fx", "hooks")
    (conv,) = [layer for layer in traced if layer.op == "conv2d"]
    assert (conv.params, conv.weight_bytes, conv.input_bytes) == (PARAMS, 4 * PARAMS, x.numel() * 4)
    assert conv.config["input_shapes"] == [[1, 8, 12, 12]]
    assert conv.config["weight_shapes"] == [[16, 8, 3, 3], [16]]
    assert (hooked[0].params, hooked[0].weight_bytes) == (conv.params, conv.weight_bytes)


def test_prediction_counts_it_on_meta():
    x = torch.randn(2, 8, 12, 12)
    real, _ = extract_layers_from_example(net(), (x,), {})
    meta = trace_layers(net(), (8, 12, 12), 2)
    assert meta.tensors == "meta"
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]
    assert [layer.params for layer in meta.layers if layer.op == "conv2d"] == [PARAMS]
