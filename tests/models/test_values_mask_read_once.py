"""A mask given to many layers (a decoder's attention mask, passed to every layer) is read once for its share of
True and its row runs, not once per layer: a 4 x 2048 x 2048 mask takes about 0.3 s to read. A mask written in
place between two layers is read again, so each layer keeps the values it saw."""

import torch
import torch.nn as nn

from hwprof.models import layers
from hwprof.models.layers import extract_layers_from_example


class SharedMask(nn.Module):
    def __init__(self, flip: bool):
        super().__init__()
        self.flip = flip

    def forward(self, x):
        mask = x > 0
        first = torch.where(mask, x, 0.0)
        if self.flip:
            mask.logical_not_()
        second = torch.where(mask, first, 1.0)
        return torch.where(mask, second, 2.0)


def mask_reads(monkeypatch, flip: bool) -> tuple[int, list]:
    reads = []
    real = layers.one_run_per_row
    monkeypatch.setattr(layers, "one_run_per_row", lambda mask: reads.append(1) or real(mask))
    x = torch.cat([torch.ones(1, 30), -torch.ones(1, 10)], dim=1)
    found, _ = extract_layers_from_example(SharedMask(flip), (x,), {})
    shares = [layer.call.args[0].true_share for layer in found if layer.op == "where"]
    return len(reads), shares


def test_a_mask_given_to_three_layers_is_read_once(monkeypatch):
    reads, shares = mask_reads(monkeypatch, flip=False)
    assert reads == 1 and shares == [0.75, 0.75, 0.75]


def test_a_mask_written_in_place_is_read_again(monkeypatch):
    reads, shares = mask_reads(monkeypatch, flip=True)
    assert reads == 2 and shares == [0.75, 0.25, 0.25]
