"""Tracing a model on real tensors is refused by what this process may allocate, not by the machine's free memory
alone: inside a container (cgroup memory.max) or under `ulimit -v` the machine looks roomy."""

import pytest
import torch
import torch.nn as nn

from hwprof.drivers import host
from hwprof.errors import HwprofError
from hwprof.models.tracing import trace_layers


class ReadsItsInput(nn.Module):
    """Reads a value of its input: no meta trace, so its weights are needed."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1000, 1000)

    def forward(self, x):
        return self.linear(x) if x.sum() > 0 else x


def test_a_limit_on_the_process_refuses_rebuilding_weights_that_do_not_fit(monkeypatch):
    monkeypatch.setattr(host, "_address_space_room", lambda: 1_000_000)  # ulimit -v: 1 MB left

    def rebuild():
        raise AssertionError("the weights were to be allocated")

    with torch.device("meta"):
        module = ReadsItsInput()
    with pytest.raises(HwprofError, match=r"needs its weights, 0\.0 GB, more than the 0\.0 GB of memory available"):
        trace_layers(module, (1000,), 1, label="reads", rebuild=rebuild)
