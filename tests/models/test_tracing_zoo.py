"""Hugging Face models are built and traced on meta tensors for prediction, with the records of a real run."""

import pytest
import torch

from fakes.zoo import TINY_HF
from hwprof.errors import HwprofError
from hwprof.models import spec as spec_module
from hwprof.models.layers import run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.models.tracing import trace_layers
from hwprof.predictor.features import LayerRecord
from hwprof.predictor.records import network_layers

pytest.importorskip("transformers")

# The shape of Llama-2-7B: 6.7 billion parameters, 27 GB of float32 weights were they real.
LLAMA_7B = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
}


@pytest.fixture
def built_modules(monkeypatch):
    """The modules network_layers builds, kept to check where their weights are."""
    built = []

    def keep(*args, **kwargs):
        spec = resolve_model(*args, **kwargs)
        built.append(spec.module)
        return spec

    monkeypatch.setattr(spec_module, "resolve_model", keep)
    return built


# OPT's attention applies functional dropout, which returns its input in eval mode.
CONFIGS = {**TINY_HF, "hf:opt": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "ffn_dim": 64}}
CONFIGS["hf:opt"]["word_embed_proj_dim"] = 32
# Falcon hands attention a transposed query and reshapes its result without a copy on the CPU
CONFIGS["hf:falcon"] = {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "vocab_size": 100}


@pytest.mark.parametrize(
    "name, dtype",
    [("hf:gpt2", "float32"), ("hf:llama", "float32"), ("hf:bert", "float32"), ("hf:llama", "bfloat16")]
    + [("hf:opt", "float32"), ("hf:falcon", "float32"), ("hf:falcon", "bfloat16")],
)
def test_meta_trace_of_a_hf_model_matches_its_real_trace(name, dtype):
    real_spec = resolve_model(name, hf_config=CONFIGS[name])
    module = real_spec.module if dtype == "float32" else real_spec.module.to(getattr(torch, dtype))
    real, _ = run_and_extract(module, real_spec.model_inputs, 2, seq_len=16, dtype=getattr(torch, dtype))
    with torch.device("meta"):
        meta_spec = resolve_model(name, hf_config=CONFIGS[name])
    assert all(p.is_meta for p in meta_spec.module.parameters())
    trace = trace_layers(meta_spec.module, meta_spec.model_inputs, 2, seq_len=16, dtype=dtype)
    assert trace.tensors == "meta", trace.reason
    assert {"embedding", "linear", "scaleddotproductattention"} <= {layer.op for layer in trace.layers}
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]


def test_prediction_builds_a_hf_model_on_meta_and_traces_it_there(built_modules):
    traced = network_layers("hf:gpt2", 3, hf_config=TINY_HF["hf:gpt2"], seq_len=16)
    assert traced.traced_on == "meta" and traced.note == ""
    (module,) = built_modules
    assert all(t.is_meta for t in (*module.parameters(), *module.buffers()))
    spec = resolve_model("hf:gpt2", hf_config=TINY_HF["hf:gpt2"])
    real, _ = run_and_extract(spec.module, spec.model_inputs, 3, seq_len=16)
    assert traced.records == [LayerRecord.from_layer(layer) for layer in real]


def test_prediction_refuses_a_sequence_longer_than_the_model_takes_as_measure_does():
    with pytest.raises(HwprofError, match=r"seq_len=2000: the model takes at most 1024 tokens \(its max_position_emb"):
        network_layers("hf:gpt2", 1, hf_config=TINY_HF["hf:gpt2"], seq_len=2000)  # predict's keyword, not seq_lens


def test_a_7b_decoder_config_is_predicted_without_allocating_its_weights(built_modules, monkeypatch):
    from hwprof.models import tracing

    monkeypatch.setattr(tracing, "available_memory_bytes", lambda: 0)  # a fallback to real weights refuses
    traced = network_layers("hf:llama", 1, hf_config=LLAMA_7B)
    assert traced.traced_on == "meta"
    (module,) = built_modules
    assert all(t.is_meta for t in (*module.parameters(), *module.buffers()))
    assert sum(p.numel() for p in module.parameters()) > 6.5e9
    assert sum(record.op == "scaleddotproductattention" for record in traced.records) == 32


def test_a_padding_mask_with_zeros_is_read_on_real_tensors():
    """Only a mask of ones is a known value on meta: a mask drawn from example values sends the model to real
    tensors, where transformers sees the padding."""
    with torch.device("meta"):
        meta_spec = resolve_model("hf:bert", hf_config=TINY_HF["hf:bert"])
    examples = {
        "input_ids": torch.randint(0, 100, (2, 8)),
        "attention_mask": torch.tensor([[1] * 8, [1] * 5 + [0] * 3]),
    }
    inputs = meta_spec.with_inputs(examples).model_inputs

    def rebuild():
        return resolve_model("hf:bert", hf_config=TINY_HF["hf:bert"]).module

    trace = trace_layers(meta_spec.module, inputs, 2, rebuild=rebuild)
    assert trace.tensors == "real"
    assert "meta" in trace.reason


def test_a_model_too_large_for_the_host_is_refused_rather_than_rebuilt(monkeypatch):
    from hwprof.models import tracing

    with torch.device("meta"):
        meta_spec = resolve_model("hf:bert", hf_config=TINY_HF["hf:bert"])
    monkeypatch.setattr(tracing, "_ShapesOnly", _NoValues)
    monkeypatch.setattr(tracing, "available_memory_bytes", lambda: 1_000_000)

    def rebuild():
        raise AssertionError("the weights were to be allocated")

    with pytest.raises(HwprofError, match=r"needs its weights, [0-9.]+ GB, more than the 0\.0 GB of memory available"):
        trace_layers(meta_spec.module, meta_spec.model_inputs, 1, label="hf:bert", rebuild=rebuild)


class _NoValues(torch.overrides.TorchFunctionMode):
    """Meta tracing without known values: transformers' mask check cannot be answered."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def test_gpt2s_transposed_linear_layers_are_described_like_nn_linear():
    """transformers' Conv1D does a linear layer's work: the same config keys let one linear model learn from both."""
    spec = resolve_model("hf:gpt2", hf_config=TINY_HF["hf:gpt2"])
    layers, _ = run_and_extract(spec.module, spec.model_inputs, 2, seq_len=8)
    mlp_in = next(layer for layer in layers if layer.name.endswith("mlp.c_fc"))
    weight = spec.module.get_submodule(mlp_in.name).weight
    assert mlp_in.op == "linear"
    assert {k: mlp_in.config[k] for k in ("in_features", "out_features", "bias")} == {
        "in_features": weight.shape[0],
        "out_features": weight.shape[1],
        "bias": True,
    }
    linear = torch.nn.Linear(weight.shape[0], weight.shape[1])
    (alike,), _ = run_and_extract(torch.nn.Sequential(linear), (8, weight.shape[0]), 2)
    assert mlp_in.config_json() == alike.config_json()
    assert mlp_in.flops == alike.flops


def test_zoo_activations_under_one_op_name_keep_their_implementation_apart():
    """GPT-2's tanh GELU (seven element-wise kernels) and BERT's exact GELU (one) are both op gelu, never one
    configuration; torch.nn's own modules keep the config they had."""

    def gelu_config(name):
        spec = resolve_model(name, hf_config=TINY_HF[name])
        layers, _ = run_and_extract(spec.module, spec.model_inputs, 1, seq_len=8)
        return next(layer.config for layer in layers if layer.op == "gelu")

    gpt2, bert = gelu_config("hf:gpt2"), gelu_config("hf:bert")
    assert (gpt2["implementation"], bert["implementation"]) == ("NewGELUActivation", "GELUActivation")
    (plain,), _ = run_and_extract(torch.nn.Sequential(torch.nn.GELU()), (8, 4), 1)
    assert "implementation" not in plain.config
