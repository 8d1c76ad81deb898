"""A candidate's memory_mb counts its weights once each, whole: summed over layers, a weight two layers share
counted twice, and an embedding only the rows its lookup reads (its layer's weight_bytes)."""

import dataclasses

import pytest
import torch.nn as nn

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import CostEstimator


def test_a_shared_weight_counts_once_in_memory():
    shared = nn.Linear(256, 256)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    twice.width = 2  # what the toy predictor reads
    space = dataclasses.replace(space_from_dict(TOY_SPACE), input_shape=(256,))
    estimator = CostEstimator(ToyPredictor(), space, parse_constraints(["memory_mb<=100"]), None, 1)
    metrics, _, _ = estimator.estimate(twice, {})
    weights_mb = sum(p.numel() * p.element_size() for p in shared.parameters()) / 1e6
    activation_mb = 2 * 256 * 4 / 1e6  # the largest layer's input and output at batch 1
    assert metrics["memory_mb"] == pytest.approx(weights_mb + activation_mb)
    assert metrics["params"] == 256 * 256 + 256
