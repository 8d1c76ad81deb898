"""A mask from a user's example is drawn with the example's share of True (torch.nonzero, a masked select or a
mask-skipping kernel cost by it); without an example, masks stay all True, as attention masks are."""

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.models.inputs import from_examples, parse_input


def test_a_bool_example_gives_its_share_of_true_at_every_batch_size_and_call():
    example = torch.rand(1, 5000, generator=torch.Generator().manual_seed(3)) < 0.01
    inputs = from_examples((torch.randn(1, 4), example))
    (_, mask), _ = inputs.make(8)
    assert mask.dtype == torch.bool and mask.shape == (8, 5000)
    assert mask.float().mean().item() == example.float().mean().item()  # exactly its share, not all True
    assert torch.equal(mask, inputs.make(8)[0][1])  # the same mask each time: a seeded draw


def test_an_integer_example_of_zeros_and_ones_keeps_its_share_and_other_integers_their_range():
    padded = torch.tensor([[1, 1, 1, 0, 0, 0, 0, 0]])
    ids = torch.tensor([[18, 4717, 30, 5]])
    _, kwargs = from_examples({"attention_mask": padded, "input_ids": ids}).make(4)
    assert kwargs["attention_mask"].sum().item() == 4 * 3  # 3 in 8 of them ones, as in the example
    assert set(kwargs["attention_mask"].unique().tolist()) == {0, 1}
    assert kwargs["input_ids"].min() >= 5 and kwargs["input_ids"].max() < 4718  # within the example's ids


def test_masks_without_a_share_are_all_true_as_before():
    all_true = from_examples(torch.ones(2, 6, dtype=torch.bool)).make(3)[0][0]
    assert all_true.all()
    described = parse_input("mask:bool[seq]").make(2, 16)
    assert described.all() and described.shape == (2, 16)


def test_on_meta_a_drawn_mask_has_its_shape_only():
    inputs = from_examples(torch.zeros(1, 6, dtype=torch.bool))
    (mask,), _ = inputs.make(2, device="meta")
    assert mask.is_meta and mask.shape == (2, 6) and mask.dtype == torch.bool


class MaskShare(nn.Module):
    """Records the share of True of each mask it is fed."""

    def __init__(self):
        super().__init__()
        self.shares = []

    def forward(self, mask):
        self.shares.append(mask.float().mean())
        return torch.nonzero(mask)


def test_a_bool_examples_share_of_true_reaches_the_measured_network():
    model, mask = MaskShare(), torch.rand(1, 20000, generator=torch.Generator().manual_seed(1)) < 0.01
    fast = {"power": "none", "precision": 0.3, "max_item_s": 0.1, "threads": 1, "seed": 0, "sweep_share": 0}
    hwprof.measure([(model, mask)], layers=False, **fast)
    shares = [float(share) for share in model.shares if isinstance(share, torch.Tensor)]  # fx traces with proxies
    assert shares and max(shares) == pytest.approx(mask.float().mean().item(), abs=1e-4)  # not all True
