"""A user's module without children is one layer of the forward hooks (a model torch.fx cannot trace) where fx
records its functions: its MACs are those functions', so both paths count the same work."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Gram(nn.Module):
    """No children, no weights: a Gram matrix of the features (style loss)."""

    def forward(self, x):
        f = x.flatten(2)
        return f @ f.transpose(1, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1)
        self.gram = Gram()

    def forward(self, x):
        return self.gram(self.conv(x))


class Untraceable(Net):
    def forward(self, x):
        x = self.conv(x)
        if x[0, 0, 0, 0].item() > -1e9:  # data-dependent: torch.fx cannot trace it, so hooks record it
            x = self.gram(x)
        return x


GRAM_MACS = 64 * 64 * (32 * 32)  # (64 x HW) @ (HW x 64)


def test_a_childless_user_module_counts_the_macs_of_its_functions_under_hooks():
    x = torch.randn(1, 3, 32, 32)
    traced, method = extract_layers_from_example(Net().eval(), (x,), {})
    hooked, hooks = extract_layers_from_example(Untraceable().eval(), (x,), {})
    assert (method, hooks) == ("fx", "hooks")
    assert [(layer.op, layer.flops) for layer in hooked] == [("conv2d", traced[0].flops), ("gram", GRAM_MACS)]
    assert sum(layer.flops for layer in hooked) == sum(layer.flops for layer in traced)


def test_prediction_counts_them_too():
    layers = trace_layers(Untraceable(), (3, 32, 32), 1).layers
    assert [(layer.op, layer.flops) for layer in layers][-1] == ("gram", GRAM_MACS)
