"""A forward that calls sys.exit while predict traced it on meta tensors stopped hwprof with the model's status
(`hwprof predict pred.json always.py:build` exited 5 without a word): the meta trace caught Exception only. It is
now the one sentence a real run's exit gives, naming the model and its input."""

import sys

import pytest
import torch.nn as nn

from hwprof.errors import HwprofError
from hwprof.models.tracing import trace_layers


class Exits(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        sys.exit(5)


def test_a_forward_that_exits_on_meta_is_one_sentence():
    with pytest.raises(HwprofError) as raised:
        trace_layers(Exits(), (4,), 2, label="always.py:build")
    assert raised.value.args[0] == "running always.py:build on input (2, 4) called sys.exit(5), which stops the run"


def test_an_interrupt_is_not_taken_for_an_exit():
    class Interrupted(nn.Module):
        def forward(self, x):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trace_layers(Interrupted(), (4,))
