"""A bool tensor a layer is timed on holds as many True as the network's did."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


class Nonzero(nn.Module):
    def forward(self, mask):
        return torch.nonzero(mask)


def test_a_bool_input_is_drawn_with_the_share_of_true_the_network_gave_it():
    mask = torch.rand(4, 25_000, generator=torch.Generator().manual_seed(1)) < 0.01
    (layer,), _ = extract_layers_from_example(Nonzero(), (mask,), {})
    (spec,) = layer.call.args
    assert spec.true_share == pytest.approx(mask.float().mean().item())
    made, again = spec.make("cpu"), spec.make("cpu")
    assert made.dtype == torch.bool and made.shape == mask.shape
    assert made.float().mean().item() == pytest.approx(spec.true_share, abs=0.002)
    assert torch.equal(made, again)  # drawn alike every time: the layer's timing does not depend on a draw
    unseen = type(spec)(spec.shape, torch.bool)  # a trace on meta saw no values: all True, as network inputs are
    assert bool(unseen.make("cpu").all())
