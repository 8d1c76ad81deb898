"""acosh (x >= 1), asin, acos and atanh (|x| <= 1) were timed on randn, whose values outside their domain give NaN
(84% of them for acosh, 32% for the others), whose paths ran 0.5-6x the time of the values a network feeds them."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


class Angles(nn.Module):
    """Angles from cosines and tanh outputs, and acosh of a distance ratio: each op's input within its domain."""

    def forward(self, x):
        c = torch.tanh(x)
        ratio = x * x + 1.0
        return (
            torch.acos(c)
            + torch.asin(c)
            + torch.atanh(c)
            + torch.acosh(ratio)
            + torch.arcsin(c)
            + c.arccos()
            + ratio.arccosh()
        )


DOMAINS = {
    "acos": (-1, 1),
    "asin": (-1, 1),
    "atanh": (-1, 1),
    "acosh": (1, float("inf")),
    "arcsin": (-1, 1),
    "arccos": (-1, 1),
    "arccosh": (1, float("inf")),
}


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_domain_restricted_ops_are_timed_within_their_domain(hooks):
    x = torch.randn(4, 2048)
    layers, extraction = extract_layers_from_example(Angles(), () if hooks else (x,), {"x": x} if hooks else {})
    assert extraction == ("hooks" if hooks else "fx")
    timed = {layer.op: layer for layer in layers if layer.op in DOMAINS}
    assert set(timed) == set(DOMAINS)
    for op, (low, high) in DOMAINS.items():
        drawn = timed[op].call.args[0].make("cpu")
        assert low <= drawn.min() and drawn.max() <= high, op
        assert not timed[op].call.bind("cpu")().isnan().any(), op
    tanh = next(layer for layer in layers if layer.op == "tanh")
    assert tanh.call.args[0].make("cpu").min() < -1  # other ops' inputs are drawn from randn as before


def test_drawing_within_a_domain_changes_no_config():
    x = torch.randn(1, 16)
    real = extract_layers_from_example(Angles(), (x,), {}, recipes=False)[0]
    meta = extract_layers_from_example(Angles(), (x.to("meta"),), {}, recipes=False)[0]
    assert [layer.facts() for layer in real] == [layer.facts() for layer in meta]
    assert all("domain" not in layer.config_json() for layer in real)
