"""A mask whose rows each hold their True in one run (a causal or a padding mask) is drawn so, with the network's
exact share of True: drawn at scattered places, torch.where and masked_fill over it ran 1.8-6x slower than in the
network, every element a coin flip."""

import torch
import torch.nn as nn

from hwprof.models.inputs import from_examples, one_run_per_row
from hwprof.models.layers import extract_layers_from_example


def _runs_per_row(mask: torch.Tensor) -> torch.Tensor:
    """How many runs of True (or ones) each row of a mask holds, along its last dimension."""
    on = mask != 0
    return on[..., 0].int() + (on[..., 1:] & ~on[..., :-1]).sum(-1)


class CausalMask(nn.Module):
    """The additive causal mask a decoder's eager attention builds at every forward."""

    def forward(self, x):
        pos = torch.arange(x.shape[-1], device=x.device)
        causal = pos[None, :] <= pos[:, None]
        return torch.where(causal, x.new_zeros(()), torch.finfo(x.dtype).min)


class Where(nn.Module):
    def forward(self, mask, x):
        return torch.where(mask, x, 0.0)


def _where_mask(layers):
    (where,) = [layer for layer in layers if layer.op == "where"]
    return where.call.args[0]


def test_a_causal_masks_rows_are_drawn_as_one_run_each_with_its_share_of_true():
    layers, _ = extract_layers_from_example(CausalMask(), (torch.randn(1, 256),), {})
    spec = _where_mask(layers)
    drawn = spec.make("cpu")
    assert drawn.shape == (256, 256) and drawn.dtype == torch.bool
    assert int(drawn.sum()) == 256 * 257 // 2  # exactly the triangle's True
    assert _runs_per_row(drawn).max() == 1
    assert torch.equal(drawn, spec.make("cpu"))  # the same mask at every call


def test_a_scattered_mask_stays_scattered_and_meta_traces_agree():
    scattered = torch.rand(64, 256, generator=torch.Generator().manual_seed(0)) < 0.5
    x = torch.randn(64, 256)
    layers, _ = extract_layers_from_example(Where(), (scattered, x), {})
    assert _runs_per_row(_where_mask(layers).make("cpu")).max() > 1
    meta, _ = extract_layers_from_example(CausalMask(), (torch.randn(1, 256, device="meta"),), {}, recipes=False)
    real, _ = extract_layers_from_example(CausalMask(), (torch.randn(1, 256),), {}, recipes=False)
    assert [layer.facts() for layer in real] == [layer.facts() for layer in meta]


def test_a_padding_mask_given_as_an_example_input_is_drawn_in_one_run_per_row():
    padded = torch.tensor([[1] * 5 + [0] * 11, [1] * 9 + [0] * 7])
    _, kwargs = from_examples({"attention_mask": padded}).make(8, 16)
    mask = kwargs["attention_mask"]
    assert mask.dtype == torch.int64 and int(mask.sum()) == round(14 / 32 * 8 * 16)
    assert _runs_per_row(mask).max() == 1


def test_one_run_per_row_tells_runs_from_scattered_values():
    assert one_run_per_row(torch.tensor([[0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]))
    assert not one_run_per_row(torch.tensor([[1, 0, 1, 0]]))
    assert not one_run_per_row(torch.ones((), dtype=torch.bool))
