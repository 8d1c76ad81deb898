"""hwprof runs on the oldest torch pyproject.toml allows (2.1, JetPack 5/6's wheels), whose torch.nn and
torch.fx lack what later releases added; these tests take those parts away from the installed torch."""

import importlib
import subprocess
import sys
import types

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from hwprof.models import layers as layers_module
from hwprof.models.layers import attention_fastpath_enabled, extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers
from hwprof.sample_models import mlp

WITHOUT_RMS_NORM = """
import importlib, pkgutil
import torch.nn as nn, torch.nn.functional as F, torch.overrides
torch.overrides.get_overridable_functions()  # torch's own table names F.rms_norm: built while it is there
for namespace, name in ((nn, "RMSNorm"), (F, "rms_norm")):  # both came with torch 2.4
    if hasattr(namespace, name):
        delattr(namespace, name)
names = ["hwprof.sample_models.sweep"]  # hwprof's own walk does not reach its other source folders
import hwprof, hwprof.drivers, hwprof.sample_models
for package in (hwprof, hwprof.drivers, hwprof.sample_models):
    names += [module.name for module in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    if name != "hwprof.__main__":  # runs the CLI
        importlib.import_module(name)
from hwprof.models.layers import extract_layers
layers, method = extract_layers(nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8)), (8,))
print(len(names), method, *[layer.op for layer in layers])
"""


def test_every_module_imports_and_traces_on_a_torch_without_rms_norm():
    done = subprocess.run([sys.executable, "-c", WITHOUT_RMS_NORM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    count, *found = done.stdout.split()
    assert int(count) > 50 and found == ["fx", "linear", "layernorm"]


def _layers(recipes: bool):
    return extract_layers_from_example(mlp.mlp(), (torch.zeros(2, 784),), {}, recipes=recipes)


def test_layers_are_found_by_fx_where_the_interpreter_takes_no_graph_argument(monkeypatch):
    """torch before 2.3: fx.Interpreter(module, garbage_collect_values) runs only a GraphModule's own graph."""
    expected = {recipes: _layers(recipes) for recipes in (True, False)}
    modern_init = fx.Interpreter.__init__

    def init_before_2_3(self, module, garbage_collect_values=True):
        assert isinstance(module, fx.GraphModule)
        modern_init(self, module, garbage_collect_values)

    monkeypatch.setattr(fx.Interpreter, "__init__", init_before_2_3)
    for recipes, (layers, method) in expected.items():
        found, found_method = _layers(recipes)
        assert (found_method, [(layer.name, layer.op, layer.flops) for layer in found]) == (
            method,
            [(layer.name, layer.op, layer.flops) for layer in layers],
        )
        assert found_method == "fx"


WITH_TORCH_2_1_OVERRIDES = """
import functools, warnings
import torch.overrides as overrides
ignored = overrides.get_ignored_functions


@functools.lru_cache(None)
def get_ignored_functions():  # torch 2.1's reads torch.has_cuda and three more deprecated attributes
    warnings.warn("'has_cuda' is deprecated, please use 'torch.backends.cuda.is_built()'", UserWarning)
    return ignored()


overrides.get_ignored_functions = get_ignored_functions
overridable = overrides.get_overridable_functions
overrides.get_overridable_functions = getattr(overridable, "__wrapped__", overridable)  # torch 2.2+ quiets it
overrides._get_overridable_functions.cache_clear()
overrides._get_tensor_methods.cache_clear()
from hwprof.models.layers import extract_layers
from hwprof.sample_models.mlp import mlp
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    extract_layers(mlp(), (784,))  # its forward calls torch.flatten, which torch.fx looks up in that table
print([str(warning.message) for warning in caught])
"""


def test_torch_2_1s_warnings_about_its_own_deprecated_attributes_stay_out_of_a_trace():
    done = subprocess.run([sys.executable, "-c", WITH_TORCH_2_1_OVERRIDES], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


class SelfAttention(nn.Module):
    """Batch-first self-attention, whose result torch.nn's fused kernel returns in order at batch 2 and more."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)
        self.linear = nn.Linear(16, 4)

    def forward(self, x):
        return self.linear(self.attention(x, x, x, need_weights=False)[0])


def _attention_records():
    """Traced on meta, where torch.nn takes the unfused path and hwprof asks whether the network's run is fused."""
    trace = trace_layers(SelfAttention(), (10, 16), 2)
    return trace.tensors, trace.reason, [layer.facts() for layer in trace.layers]


def test_attention_is_recorded_on_a_torch_without_the_fast_path_switch(monkeypatch):
    """torch 2.1 has no torch.backends.mha (get_fastpath_enabled) and takes the fused kernel unasked. The installed
    torch's own MultiheadAttention reads the switch, so it is taken only from the torch hwprof's layers see."""
    expected = _attention_records()
    assert expected[:2] == ("meta", "")
    backends = types.SimpleNamespace(**{name: getattr(torch.backends, name) for name in dir(torch.backends)})
    vars(backends).pop("mha", None)
    monkeypatch.setattr(layers_module, "torch", types.SimpleNamespace(**{**vars(torch), "backends": backends}))
    assert attention_fastpath_enabled()
    assert _attention_records() == expected


class ProjectedAttention(nn.Module):
    """A ViT block's attention, as timm writes it: query, key and value sliced from one (B, L, 3, H, E) projection,
    and the result transposed back and reshaped, a view where the CPU's kernel lays it out as the query."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(16, 48)
        self.proj = nn.Linear(16, 16)

    def forward(self, x):
        batch, tokens, channels = x.shape
        q, k, v = self.qkv(x).reshape(batch, tokens, 3, 4, 4).permute(2, 0, 3, 1, 4).unbind(0)
        attended = F.scaled_dot_product_attention(q, k, v)
        return self.proj(attended.transpose(1, 2).reshape(batch, tokens, channels))


def test_attention_is_laid_out_on_meta_as_the_cpu_lays_it_out_on_torch_2_1(monkeypatch):
    """torch 2.1 has no torch.nn.attention, and its _fused_sdp_choice takes no enable_gqa (torch 2.5 added it):
    the meta trace recorded a reshape copy the real run never makes."""
    real, _ = run_and_extract(ProjectedAttention(), (10, 16), 2)
    choose = torch._fused_sdp_choice

    def choice_of_torch_2_1(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *, scale=None):
        return choose(query, key, value, attn_mask, dropout_p, is_causal, scale=scale)

    # the installed torch's fx imports torch._dynamo on first use, which reads torch.nn.attention
    importlib.import_module("torch._dynamo")
    monkeypatch.setattr(torch, "_fused_sdp_choice", choice_of_torch_2_1)
    monkeypatch.delattr(torch.nn, "attention", raising=False)
    monkeypatch.setitem(sys.modules, "torch.nn.attention", None)
    traced = trace_layers(ProjectedAttention(), (10, 16), 2)
    assert traced.tensors == "meta", traced.reason
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class ScalarReadsOfTorch2_1(TorchFunctionMode):
    """torch 2.1's dispatcher on reading a meta tensor's value: a NotImplementedError naming only the missing
    kernel, followed by a page of backends."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.__bool__ and args[0].is_meta:
            raise NotImplementedError(
                "Could not run 'aten::_local_scalar_dense' with arguments from the 'Meta' backend. This could be "
                "because the operator doesn't exist for this backend."
            )
        return func(*args, **(kwargs or {}))


class ReadsValues(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        x = self.linear(x)
        return x * 2 if x.sum() > 0 else x - 1


def test_a_value_read_on_meta_is_told_as_newer_torch_tells_it():
    with ScalarReadsOfTorch2_1():
        trace = trace_layers(ReadsValues(), (4,), 1)
    assert (trace.tensors, trace.reason) == ("real", "RuntimeError: Tensor.item() cannot be called on meta tensors")


def test_search_counts_attention_scores_on_a_torch_without_the_fast_path_switch(monkeypatch):
    """search's memory_mb read the same switch, and raised an AttributeError there, as a bug of hwprof's."""
    from hwprof.models.tracing import trace_layers
    from hwprof.search.study import _attention_scores_bytes

    encoder = nn.TransformerEncoderLayer(32, 8, 128, dropout=0.0, batch_first=True).eval()
    layers = trace_layers(encoder, (64, 32), 2, label="encoder").layers
    expected = [_attention_scores_bytes(layer) for layer in layers]
    assert any(expected)
    backends = types.SimpleNamespace(**{name: getattr(torch.backends, name) for name in dir(torch.backends)})
    vars(backends).pop("mha", None)
    monkeypatch.setattr(torch, "backends", backends)  # traced already: torch's own MultiheadAttention reads it
    assert [_attention_scores_bytes(layer) for layer in layers] == expected
