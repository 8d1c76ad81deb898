"""A layer given a parametrization (weight_norm, spectral_norm, torch.nn.utils.parametrize) is recorded as the
layer it is: a parametrized Conv2d is conv2d with a convolution's MACs and config, as a parametrized Linear is
linear, not an op of its own named after torch's generated class (parametrizedconv2d)."""

import torch
import torch.nn as nn
from torch.nn.utils import parametrizations

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


def net(parametrized):
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10)]
    if parametrized:
        layers[0] = parametrizations.weight_norm(layers[0])
        layers[1] = parametrizations.spectral_norm(layers[1]).eval()
        layers[4] = parametrizations.orthogonal(layers[4])
    return nn.Sequential(*layers).eval()


def work(layers):
    return [(layer.op, layer.config_json(), layer.flops) for layer in layers]


def test_a_parametrized_layer_is_the_layer_it_parametrizes():
    x = torch.randn(2, 3, 8, 8)
    plain, _ = extract_layers_from_example(net(False), (x,), {})
    traced, method = extract_layers_from_example(net(True), (x,), {})
    hooked, hooks = extract_layers_from_example(net(True), (), {"input": x})
    meta = trace_layers(net(True), (3, 8, 8), 2)
    assert (method, hooks, meta.tensors) == ("fx", "hooks", "meta")
    assert [layer.op for layer in traced] == ["conv2d", "batchnorm2d", "relu", "flatten", "linear"]
    assert work(traced) == work(plain)
    assert work(hooked) == work(plain)
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in traced]
