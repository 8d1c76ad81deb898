"""A module whose weights mix the run's dtype with others on purpose (bfloat16 Linears around a float32 LayerNorm,
as Hugging Face's _keep_in_fp32_modules keeps them) is measured as it is at that dtype: converting it whole broke
its float32 LayerNorm, and no dtype could measure it, and it says so. A model in one dtype is converted as before,
and so is a float32 model holding a stray bfloat16 parameter: the run's dtype must hold most of a module's weights
for the module to count as in it (taken as it is, that one was timed in float32 and labelled bfloat16)."""

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.errors import HwprofError, HwprofWarning
from hwprof.models.inputs import ModelInputs
from hwprof.models.tracing import _conversions, trace_layers

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


class Float32Norm(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.ln = nn.LayerNorm(n)

    def forward(self, x):
        return self.ln(x.float()).to(x.dtype)


def mixed() -> nn.Module:
    net = nn.Sequential(nn.Linear(16, 32), Float32Norm(32), nn.Linear(32, 8)).eval()
    net[0].to(torch.bfloat16)
    net[2].to(torch.bfloat16)
    return net


class Stray(nn.Module):
    """A float32 MLP with one bfloat16 parameter (as a checkpoint may leave one); `cast`: its forward follows its
    weights' dtype, as one written for any dtype does."""

    def __init__(self, cast: bool):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 32), nn.Linear(32, 8)
        self.scale = nn.Parameter(torch.ones(1, dtype=torch.bfloat16))
        self.cast = cast

    def forward(self, x):
        if self.cast:
            x = x.to(self.fc1.weight.dtype)
        return self.fc2(torch.relu(self.fc1(x))) * self.scale


STRAY_ELEMENTS = 16 * 32 + 32 + 32 * 8 + 8 + 1


def test_a_module_mixing_the_runs_dtype_is_measured_as_it_is():
    net = mixed()
    with pytest.warns(HwprofWarning, match=r"is run as it is at bfloat16.*\(92\.7% bfloat16, 7\.3% float32\)"):
        frame = hwprof.measure([(net, torch.randn(1, 16, dtype=torch.bfloat16))], dtype="bfloat16", **FAST)
    configs = dict(zip(frame["op"], frame["config"]))
    assert '"dtype":"bfloat16"' in configs["linear"]
    assert "bfloat16" not in configs["layernorm"]  # timed in float32, as the model runs it
    assert dict(zip(frame["op"], frame["weight_bytes"]))["layernorm"] == 2 * 32 * 4
    assert net[1].ln.weight.dtype == torch.float32  # the user's module is left as it was


def test_a_float32_run_of_a_mixed_module_says_which_dtype_measures_it():
    with pytest.raises(HwprofError, match="weights mix bfloat16 and float32.*bfloat16.* measures it as it is"):
        hwprof.measure([(mixed(), torch.randn(1, 16, dtype=torch.bfloat16))], **FAST)


@pytest.mark.parametrize("cast", [True, False])
def test_a_float32_module_with_a_stray_bfloat16_parameter_is_converted(cast, recwarn):
    frame = hwprof.measure([(Stray(cast), torch.randn(1, 16))], dtype="bfloat16", layers=False, **FAST)
    network = frame[frame["op"] == "network"].iloc[0]
    assert network["weight_bytes"] == 2 * STRAY_ELEMENTS  # all bfloat16, not float32 beside one bfloat16
    assert network["output_bytes"] == 2 * 8
    assert not [w for w in recwarn if "is run as it is" in str(w.message)]


def test_predict_converts_a_stray_bfloat16_parameter_as_measure_does():
    assert _conversions(Stray(True), torch.bfloat16, False, None) == ["module.to(torch.bfloat16)"]
    trace = trace_layers(Stray(False), ModelInputs.from_shape((16,)), dtype="bfloat16")
    assert sum(layer.weight_bytes for layer in trace.layers) == 2 * STRAY_ELEMENTS


def test_predict_traces_a_mixed_module_as_measure_runs_it():
    with pytest.warns(HwprofWarning, match=r"Sequential is run as it is at bfloat16.*92\.7% bfloat16, 7\.3% float32"):
        trace = trace_layers(mixed(), ModelInputs.from_shape((16,)), dtype="bfloat16")
    norms = [layer for layer in trace.layers if layer.op == "layernorm"]
    assert [layer.weight_bytes for layer in norms] == [2 * 32 * 4]  # its float32 weight and bias, as measure runs it


def test_a_module_in_one_dtype_with_a_float32_buffer_is_converted_as_before():
    net = nn.Linear(16, 8).to(torch.bfloat16)
    net.register_buffer("scale", torch.ones(8))
    assert _conversions(net, torch.bfloat16, False, None) == ["module.to(torch.bfloat16)"]
    assert _conversions(nn.Linear(16, 8), torch.bfloat16, False, None) == ["module.to(torch.bfloat16)"]


class MostlyFloat32(nn.Module):
    """A float32 Linear before a small bfloat16 head, whose forward does not cast: it runs at no dtype as it is."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(64, 64)
        self.head = nn.Linear(64, 2).to(torch.bfloat16)

    def forward(self, x):
        return self.head(self.body(x))


def test_a_float32_run_of_a_mostly_float32_module_does_not_promise_bfloat16_keeps_it():
    """A bfloat16 run converts this module whole (bfloat16 holds 3% of it), so the advice names its bfloat16
    layers to convert, not a dtype that would take it as it is."""
    with pytest.raises(HwprofError) as failure:
        hwprof.measure([(MostlyFloat32(), torch.randn(1, 64))], layers=False, **FAST)
    message = str(failure.value)
    assert "measures it as it is" not in message
    assert "mostly float32 (97.0% float32, 3.0% bfloat16)" in message
    assert "bfloat16 (head): convert those layers with module.float()" in message
    assert "which converts the whole model to bfloat16" in message
