"""An integer tensor of zeros and ones made inside a network (an MoE's one-hot expert mask) is drawn with the
network's share of ones, as a bool mask is: randint over [0, 2) drew half ones where 1/experts of it were, and
torch.where over it ran 2-5x slower."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import extract_layers_from_example

EXPERTS, TOP_K = 16, 2


class Dispatch(nn.Module):
    """transformers' eager experts: a one-hot of the router's top-k, then torch.where over each expert's slice."""

    def forward(self, logits):
        top = logits.topk(TOP_K, dim=-1).indices
        expert_mask = F.one_hot(top, num_classes=EXPERTS).permute(2, 1, 0)
        return [torch.where(expert_mask[e]) for e in range(EXPERTS)]


def test_an_integer_one_hot_mask_is_drawn_with_the_networks_share_of_ones():
    logits = torch.randn(512, EXPERTS)
    layers, _ = extract_layers_from_example(Dispatch(), (logits,), {})
    wheres = [layer for layer in layers if layer.op == "where"]
    assert len(wheres) == EXPERTS
    top = logits.topk(TOP_K, dim=-1).indices
    for expert, layer in enumerate(wheres):
        (spec,) = layer.call.args
        real_share = (top == expert).sum().item() / top.numel()
        assert spec.true_share == pytest.approx(real_share)
        drawn = spec.make("cpu")
        assert drawn.dtype == torch.int64 and set(drawn.unique().tolist()) <= {0, 1}
        assert drawn.sum().item() == (top == expert).sum().item()  # exactly the network's ones, not half


def test_other_integers_keep_their_range():
    ids = torch.randint(0, 100, (4, 32))
    layers, _ = extract_layers_from_example(nn.Embedding(100, 8), (ids,), {})
    (spec,) = layers[0].call.args
    assert spec.true_share is None
    drawn = spec.make("cpu")
    assert drawn.min() >= 0 and drawn.max() < 100 and drawn.unique().numel() > 2
