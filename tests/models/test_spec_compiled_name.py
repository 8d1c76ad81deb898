"""A module its user torch.compile'd, given from Python, is named as the module it compiled (its class and digest),
not "OptimizedModule#...": a compiled and an eager run of one model are one network, their rows told apart by the
compiled column."""

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.models.spec import family_of, spec_from_module

FAST = {"power": "none", "precision": 0.5, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


@pytest.fixture
def net():
    torch._dynamo.reset()
    yield nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    torch._dynamo.reset()


def test_a_compiled_module_is_named_as_its_eager_module(net):
    example = torch.randn(1, 8)
    compiled = spec_from_module(torch.compile(net, backend="eager"), inputs=example)
    eager = spec_from_module(net, inputs=example)
    assert compiled.name == eager.name and compiled.name.startswith("Sequential#")
    assert compiled.family == family_of(compiled.name) == "Sequential"


def test_its_rows_share_the_eager_runs_name_and_say_compiled(net):
    example = torch.randn(1, 8)
    rows = [
        hwprof.measure([(module, example)], layers=False, **FAST)
        for module in (torch.compile(net, backend="eager"), net)
    ]
    names = [set(frame["model"]) for frame in rows]
    assert names[0] == names[1] == {spec_from_module(net, inputs=example).name}
    assert [bool(frame["compiled"].all()) for frame in rows] == [True, False]
