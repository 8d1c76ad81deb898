"""A pruned or old-style weight-normed module holds its computed `weight` as a plain non-leaf tensor, which
deepcopy refuses: measure and predict in another dtype or layout copied it and failed, predict as a bug, and the
advice to convert it first led back to the same copy."""

import threading
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

import hwprof
from hwprof.errors import HwprofError
from hwprof.models.tracing import trace_layers
from hwprof.predictor.records import network_layers

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


def pruned_net() -> nn.Sequential:
    """Pruned and weight-normed as their users do it, outside no_grad: the computed weights are not leaves."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 4))
    prune.l1_unstructured(net[0], "weight", amount=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the old weight_norm API, still in use
        nn.utils.weight_norm(net[2])
    assert not net[0].weight.is_leaf and not net[2].weight.is_leaf
    return net


class ReadsValues(nn.Module):
    """Reads a value in forward, so predict cannot trace it on meta and runs it on real tensors."""

    def __init__(self):
        super().__init__()
        self.net = pruned_net()

    def forward(self, x):
        return self.net(x if x.sum() > -1e9 else -x)


class Locked(nn.Module):
    """Holds something deepcopy cannot copy (a lock)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.lock = threading.Lock()

    def forward(self, x):
        return self.conv(x)


def example():
    return torch.randn(1, 3, 8, 8)


@pytest.mark.parametrize("how", [{"dtype": "bfloat16"}, {"channels_last": True}], ids=["bfloat16", "channels_last"])
def test_a_pruned_module_is_measured_converted_and_left_as_it_was(how):
    net = pruned_net()
    frame = hwprof.measure([(net, example())], layers=False, **how, **FAST)
    row = frame[frame["kind"] == "network"].iloc[0]
    assert row["dtype"] == how.get("dtype", "float32") and bool(row["channels_last"]) == how.get("channels_last", False)
    assert net[0].weight_orig.dtype == torch.float32 and net[0].weight_orig.is_contiguous()  # the user's own
    assert len(net[0]._forward_pre_hooks) == 1 and len(net[2]._forward_pre_hooks) == 1


@pytest.mark.parametrize("model", [pruned_net, ReadsValues], ids=["on_meta", "on_real_tensors"])
def test_predict_traces_a_pruned_module_in_bfloat16(model):
    net = model()
    trace = trace_layers(net, (3, 8, 8), dtype="bfloat16")
    assert trace.tensors == ("meta" if model is pruned_net else "real")
    convs = [layer for layer in trace.layers if layer.op == "conv2d"]
    assert len(convs) == 2 and all(layer.config.get("dtype") == "bfloat16" for layer in convs)
    assert all(p.dtype == torch.float32 for p in net.parameters())


@pytest.mark.parametrize("how", [{"dtype": "bfloat16"}, {"channels_last": True}], ids=["bfloat16", "channels_last"])
def test_predicts_records_of_a_pruned_module_are_traced_converted(how):
    traced = network_layers((ReadsValues(), example()), **how)  # what hwprof predict traces, lazy weights checked
    assert traced.traced_on == "real" and [record.op for record in traced.records].count("conv2d") == 2


def test_a_module_that_cannot_be_copied_gets_advice_that_works():
    net = Locked()
    with pytest.raises(HwprofError, match=r"convert it yourself \(module\.to\(torch\.bfloat16\)\) and measure it"):
        hwprof.measure([(net, example())], layers=False, dtype="bfloat16", **FAST)
    with pytest.raises(HwprofError, match=r"module\.to\(torch\.bfloat16\)\) and predict it with the same settings"):
        trace_layers(net, (3, 8, 8), dtype="bfloat16")
    net.to(torch.bfloat16)  # as told: the run then converts nothing, so it needs no copy
    frame = hwprof.measure([(net, example())], layers=False, dtype="bfloat16", **FAST)
    assert (frame["dtype"] == "bfloat16").all()
    assert trace_layers(net, (3, 8, 8), dtype="bfloat16").layers[0].config.get("dtype") == "bfloat16"
