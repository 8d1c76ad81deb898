"""Model files a user might write, as source text: the tests and bench/bad_inputs.py write them to a folder."""

# runs well while traced (fx gives up on its Python branch, hooks see it run), then raises on its 41st real call
LATE_MODEL = """
import torch.nn as nn

CALLS = [0]


class Late(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, x):
        if not x.is_meta:
            CALLS[0] += 1
        if CALLS[0] > 40:
            raise RuntimeError("fails after 40 calls")
        return self.linear(x)


def build():
    net = Late()
    net.input_shape = (8,)
    return net
"""

# factories that return what hwprof cannot use: an input shape in words, example inputs that are text
ODD_FACTORIES = """
import torch.nn as nn


def shape_in_words():
    net = nn.Linear(4, 4)
    net.input_shape = "four"
    return net


def text_for_inputs():
    return nn.Linear(4, 4), "not a tensor"
"""
