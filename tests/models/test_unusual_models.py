"""Models users write that the zoo's do not: buffers used as weights, TorchScript, float64, quantized layers."""

import hashlib

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.errors import HwprofError
from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.spec import _module_settings, module_name, resolve_model
from hwprof.models.tracing import trace_layers


class BufferProduct(nn.Module):
    """x @ (b @ b) with b a buffer: both products run every forward."""

    def __init__(self):
        super().__init__()
        self.register_buffer("b", torch.randn(16, 16))

    def forward(self, x):
        return x @ (self.b @ self.b)


def test_ops_on_buffers_alone_are_layers():
    expected = 16 * 16 * 16 + 16 * 16
    layers, method = extract_layers_from_example(BufferProduct(), (torch.randn(1, 16),), {})
    assert method == "fx"
    assert [layer.flops for layer in layers] == [16 * 16 * 16, 16 * 16]
    traced = trace_layers(BufferProduct(), (16,))
    assert sum(layer.flops for layer in traced.layers) == expected


def small():
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_module_is_refused_in_one_sentence(how):
    module = torch.jit.script(small()) if how == "script" else torch.jit.trace(small(), torch.randn(1, 8))
    with pytest.raises(HwprofError, match="m.py:ts is a TorchScript module .* pass the eager nn.Module"):
        run_and_extract(module, (8,), 1, label="m.py:ts")
    with pytest.raises(HwprofError, match="TorchScript module"):
        trace_layers(module, (8,), label="m.py:ts")


def test_float64_module_at_a_float32_run_is_refused_in_one_sentence():
    with pytest.raises(HwprofError, match="m.py:f64 holds float64 weights and the run is float32: .*module.float"):
        run_and_extract(small().double(), (8,), 1, label="m.py:f64", dtype=torch.float32)
    layers, _ = run_and_extract(small().double(), (8,), 1, dtype=torch.float64)  # converted for a float64 run
    assert layers[0].config["dtype"] == "float64"


def test_dynamically_quantized_linear_has_linear_macs_and_its_weights():
    quantized = torch.ao.quantization.quantize_dynamic(small(), {nn.Linear}, dtype=torch.qint8)
    layers, _ = extract_layers_from_example(quantized, (torch.randn(1, 8),), {})
    first = layers[0]
    assert (first.op, first.flops, first.params) == ("linear", 8 * 8, 8 * 8 + 8)
    assert first.weight_bytes == 8 * 8 * 1 + 8 * 4  # int8 weights, float32 bias
    assert first.config["weight_dtype"] == "qint8"  # not the work of a float32 Linear of these sizes
    float_layers, _ = extract_layers_from_example(small(), (torch.randn(1, 8),), {})
    assert first.config_id("cpu") != float_layers[0].config_id("cpu")


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(16, 32))
        self.wt = nn.Parameter(torch.randn(8, 4, 3, 3))

    def forward(self, x, v):
        return (
            torch.einsum("bi,ij->bj", v, self.w),
            torch.einsum("...i,ij", v, self.w),  # implicit output, an ellipsis
            torch.tensordot(v, self.w, dims=1),
            torch.tensordot(v, self.w, dims=([1], [0])),
            F.conv_transpose2d(x, self.wt, stride=2),
        )


@pytest.mark.parametrize("hooks", [False, True])
def test_functional_contractions_count_their_products(hooks):
    x, v = torch.randn(1, 8, 4, 4), torch.randn(1, 16)
    args, kwargs = ((x,), {"v": v}) if hooks else ((x, v), {})  # keyword inputs: forward hooks, not fx
    layers, method = extract_layers_from_example(Functional(), args, kwargs)
    assert method == ("hooks" if hooks else "fx")
    assert [layer.flops for layer in layers] == [16 * 32] * 4 + [8 * 4 * 4 * 4 * 3 * 3]
    module = nn.Sequential(nn.ConvTranspose2d(8, 4, 3, stride=2, bias=False))
    (alike,), _ = extract_layers_from_example(module, (x,), {})
    assert alike.flops == layers[-1].flops


class FunctionalPools(nn.Module):
    def forward(self, x):
        return F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 1, 1), F.adaptive_avg_pool2d(x, 1), F.max_pool1d(x[0], 2)


def test_a_pool_is_counted_alike_as_module_and_function():
    x = torch.randn(1, 8, 16, 16)
    functional, _ = extract_layers_from_example(FunctionalPools(), (x,), {})
    modules = nn.ModuleList([nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.MaxPool1d(2)])
    for layer, module, given in zip(functional, modules, (x, x, x, x[0])):
        (alike,), _ = extract_layers_from_example(nn.Sequential(module), (given,), {})
        assert (layer.op, layer.flops) == (alike.op, alike.flops)


def test_input_shape_attribute_is_not_a_layer_setting():
    alone = nn.Linear(8, 4)
    alone.input_shape = (8,)
    (layer,), _ = run_and_extract(alone, (8,), 1)
    (inside,), _ = run_and_extract(nn.Sequential(nn.Linear(8, 4)), (8,), 1)
    assert "input_shape" not in layer.config
    assert layer.config_id("cpu") == inside.config_id("cpu")


class Branches(nn.Module):
    """A branch on a value: meta tensors have none, so the trace falls back to a real forward pass."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, x):
        return self.linear(x) if x.sum() > -1e9 else x


def test_a_trace_on_real_tensors_leaves_the_module_in_its_mode():
    module = Branches()
    trace = trace_layers(module, (8,))
    assert trace.tensors == "real"
    assert module.training and module.linear.training


class OwnWeight(nn.Module):
    def __init__(self, columns, buffer=4):
        super().__init__()
        self.w = nn.Parameter(torch.randn(16, columns))
        self.register_buffer("b", torch.ones(buffer))

    def forward(self, x):
        return x @ self.w * self.b.sum()


def test_modules_differing_in_their_own_weights_have_two_names():
    assert module_name(OwnWeight(32)) != module_name(OwnWeight(64))
    assert module_name(OwnWeight(32, 4)) != module_name(OwnWeight(32, 8))
    assert module_name(OwnWeight(32)) == module_name(OwnWeight(32))
    torch_only = nn.Sequential(nn.Linear(8, 4), nn.ReLU())  # named by its repr, as before
    assert module_name(torch_only) == "Sequential#" + hashlib.sha256(repr(torch_only).encode()).hexdigest()[:6]
    assert "tensor" not in _module_settings(nn.MultiheadAttention(4, 2))  # its settings, as before, not its weights


def test_a_factory_with_no_example_input_is_told_in_one_sentence(tmp_path):
    (tmp_path / "m.py").write_text(
        "import torch\n"
        "class NoArg(torch.nn.Module):\n"
        "    def forward(self):\n"
        "        return torch.ones(1)\n"
        "def noarg():\n"
        "    return NoArg(), ((), {})\n"
    )
    name = f"{tmp_path / 'm.py'}:noarg"
    with pytest.raises(HwprofError) as raised:
        resolve_model(name)
    assert str(raised.value) == (
        f"{name} returned a module and example inputs, but no example input was given: a model needs at least one "
        "input tensor"
    )


def test_a_float64_factory_in_a_list_is_refused_before_any_model_runs(tmp_path):
    """A list's first run of each model came before extraction's weights check, so a .double() factory
    beside another model ended in torch's 'mat1 and mat2 must have the same dtype'."""
    from click.testing import CliRunner

    from hwprof.cli import main

    (tmp_path / "m.py").write_text(
        "import torch.nn as nn\n"
        "def f64():\n"
        "    m = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).double()\n"
        "    m.input_shape = (8,)\n"
        "    return m\n"
        "def one():\n"
        "    m = nn.Sequential(nn.Linear(8, 2))\n"
        "    m.input_shape = (8,)\n"
        "    return m\n"
    )
    out = tmp_path / "o.parquet"
    models = [f"{tmp_path}/m.py:one", f"{tmp_path}/m.py:f64"]
    result = CliRunner().invoke(main, ["measure", *models, "--out", str(out), "--power", "none", "--max-time", "0.1"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "m.py:f64 holds float64 weights and the run is float32" in result.output
    assert "same dtype" not in result.output and not out.exists()


def test_a_quantized_networks_row_weighs_what_its_layers_weigh():
    """The layer rows counted a quantized Linear's packed weights, the network row still had 0 params and
    0 weight bytes, from .parameters()."""
    import warnings

    from hwprof.measuring.session import measure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation of eager quantization
        model = torch.ao.quantization.quantize_dynamic(
            nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)), {nn.Linear}, dtype=torch.qint8
        )
        frame = measure(
            [(model, torch.zeros(1, 16))], power="none", max_item_s=0.05, sweep_share=0, precision=0.5, threads=1
        )
    network = frame[frame["kind"] == "network"].iloc[0]
    layers = frame[frame["kind"] == "layer"]
    assert network["params"] == layers["params"].sum() == 16 * 16 + 16 + 16 * 4 + 4
    assert network["weight_bytes"] > 0
