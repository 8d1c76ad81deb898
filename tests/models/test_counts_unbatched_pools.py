"""A pooling module given an unbatched input (C, H, W) pools the same window as on a batch: kernel_size 3 is a 3 x 3
window for MaxPool2d whether or not a batch dimension comes first."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


@pytest.mark.parametrize(
    "pool, shape, window",
    [
        (nn.MaxPool2d(3, 2), (16, 32, 32), 9),
        (nn.AvgPool2d(3, 2), (16, 32, 32), 9),
        (nn.MaxPool1d(3), (16, 30), 3),
        (nn.AvgPool3d(2), (4, 8, 8, 8), 8),
    ],
)
def test_an_unbatched_pool_counts_its_whole_window(pool, shape, window):
    x = torch.randn(*shape)
    (unbatched,), _ = extract_layers_from_example(pool, (x,), {})
    (batched,), _ = extract_layers_from_example(pool, (x[None],), {})
    assert unbatched.flops == pool(x).numel() * window
    assert unbatched.flops == batched.flops
