"""A model wrapped in nn.DataParallel (or DistributedDataParallel) runs its module: its layers are the module's, on
torch.fx, the forward hooks and meta tensors, never one layer for the wrapper."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


def cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)
    ).eval()


def counts(layers):
    return [(layer.op, layer.flops, layer.params) for layer in layers]


def test_a_wrapped_network_has_its_modules_layers():
    x = torch.randn(2, 3, 16, 16)
    plain, _ = extract_layers_from_example(cnn(), (x,), {})
    assert len(plain) == 5
    traced, method = extract_layers_from_example(nn.DataParallel(cnn()), (x,), {})
    hooked, hooks = extract_layers_from_example(nn.DataParallel(cnn()), (), {"input": x})
    meta = trace_layers(nn.DataParallel(cnn()), (3, 16, 16), 2)
    assert (method, hooks, meta.tensors) == ("fx", "hooks", "meta")
    assert [layer.facts() for layer in traced] == [layer.facts() for layer in plain]
    assert counts(hooked) == counts(plain)
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in plain]


def test_a_distributed_wrapper_is_unwrapped_too():
    wrapper = nn.parallel.DistributedDataParallel.__new__(nn.parallel.DistributedDataParallel)
    nn.Module.__init__(wrapper)  # no process group: only its module is ever run
    wrapper.module = cnn()
    x = torch.randn(2, 3, 16, 16)
    plain, _ = extract_layers_from_example(cnn(), (x,), {})
    wrapped, _ = extract_layers_from_example(wrapper, (x,), {})
    assert counts(wrapped) == counts(plain)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.DataParallel(cnn()[:2])
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


def test_a_wrapper_inside_a_network_is_traced_into():
    x = torch.randn(2, 3, 16, 16)
    traced, method = extract_layers_from_example(Backbone().eval(), (x,), {})
    hooked, _ = extract_layers_from_example(Backbone().eval(), (), {"x": x})
    assert method == "fx"
    assert [layer.op for layer in traced] == ["conv2d", "relu", "adaptiveavgpool2d", "linear"]
    assert counts(hooked) == counts(traced)
