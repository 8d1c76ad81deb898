"""A candidate's memory_mb counts its weights once each, whole: summed over layers, a weight two layers share
counted twice, and an embedding only the rows its lookup reads (its layer's weight_bytes)."""

import pytest
import torch.nn as nn

from hwprof.search.study import _layer_metrics


def test_a_shared_weight_counts_once_in_memory():
    shared = nn.Linear(256, 256)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    weights_mb = sum(p.numel() * p.element_size() for p in shared.parameters()) / 1e6
    activation_mb = 2 * 256 * 4 / 1e6  # the largest layer's input and output at batch 1
    assert _layer_metrics(twice, (256,), 1)["memory_mb"] == pytest.approx(weights_mb + activation_mb)
