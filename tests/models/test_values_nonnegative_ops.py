"""sqrt, log and a fractional pow are timed on non-negative values, as a network feeds them (a magnitude, a power
spectrum): on randn half their results were NaN, which cost 6-28x the network's time."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


class LogMel(nn.Module):
    """A speech front end: power, then its magnitude and log, then a fractional and an integer power."""

    def forward(self, x):
        power = x * x
        return torch.sqrt(power + 1e-6) + torch.log(power + 1e-6) + power**0.5 + torch.log1p(power) + x**2


def _drawn(layer) -> torch.Tensor:
    return layer.call.args[0].make("cpu")


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_domain_restricted_ops_are_timed_on_non_negative_values_and_others_on_randn(hooks):
    x = torch.randn(2, 80, 300)
    kwargs = {"x": x} if hooks else {}  # a keyword input takes the forward hooks' path
    layers, extraction = extract_layers_from_example(LogMel(), () if hooks else (x,), kwargs)
    assert extraction == ("hooks" if hooks else "fx")
    by_op = {}
    for layer in layers:
        by_op.setdefault(layer.op, []).append(layer)
    for op in ("sqrt", "log", "log1p"):
        (layer,) = by_op[op]
        assert _drawn(layer).min() >= 0 and not layer.call.bind("cpu")().isnan().any()
    fractional, square = by_op["pow"]  # power ** 0.5, then x ** 2
    assert _drawn(fractional).min() >= 0 and not fractional.call.bind("cpu")().isnan().any()
    assert _drawn(square).min() < 0  # x ** 2 is defined for every x: drawn from randn as before
    assert _drawn(by_op["mul"][0]).min() < 0  # other ops' inputs are unchanged


def test_drawing_non_negative_values_changes_no_config():
    x = torch.randn(1, 16)
    real = extract_layers_from_example(LogMel(), (x,), {}, recipes=False)[0]
    meta = extract_layers_from_example(LogMel(), (x.to("meta"),), {}, recipes=False)[0]
    assert [layer.facts() for layer in real] == [layer.facts() for layer in meta]
