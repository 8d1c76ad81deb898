"""Mixture-of-experts decoders (hf:mixtral, hf:qwen2_moe) traced on meta tensors, so that a Mixtral-8x7B config is
predicted without allocating its 47 B weights: torch's meta kernel for the experts' grouped matmul refused float32,
and the whole network went to real tensors."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from fakes.zoo import TINY_HF  # noqa: F401  (sets the offline environment before transformers is imported)
from hwprof.models.inputs import DTYPES
from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.models.tracing import EVEN_ROUTING, MetaDevice, trace_layers

pytest.importorskip("transformers")
pytestmark = pytest.mark.skipif(not hasattr(torch, "_grouped_mm"), reason="torch._grouped_mm came with torch 2.8")

SMALL = {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 2}
SMALL |= {"vocab_size": 1000, "num_experts_per_tok": 2}
MOE = {
    "hf:mixtral": {**SMALL, "intermediate_size": 64, "num_local_experts": 4},
    "hf:qwen2_moe": {**SMALL, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 64, "num_experts": 4},
}
# How many rows each expert gets: transformers counts them with a float histogram on the CPU and an int one on any
# other device, meta included, so these records' dtypes (and the cast before them, int there, float on the CPU) are
# a CUDA run's.
ROUTING_COUNTS = {"int", "float", "histc", "cumsum"}


def _meta_trace(name: str, batch_size: int, seq_len: int, dtype: str = "float32"):
    with MetaDevice():  # as prediction builds it: no weight allocated
        spec = resolve_model(name, hf_config=MOE[name])
    return trace_layers(spec.module, spec.model_inputs, batch_size, label=spec.name, seq_len=seq_len, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float16"])  # torch's meta kernel took bfloat16 alone
@pytest.mark.parametrize("name", sorted(MOE))
def test_a_moe_decoder_traces_on_meta_with_a_real_runs_records(name, dtype):
    trace = _meta_trace(name, 2, 16, dtype)
    assert (trace.tensors, trace.reason) == ("meta", "")  # was real: "Expected mat_a to be BFloat16 ..."

    spec = resolve_model(name, hf_config=MOE[name])
    real, _ = run_and_extract(spec.module.to(DTYPES[dtype]), spec.model_inputs, 2, seq_len=16, dtype=DTYPES[dtype])
    found = [layer.facts() for layer in trace.layers if layer.op not in ROUTING_COUNTS]
    assert found == [layer.facts() for layer in real if layer.op not in ROUTING_COUNTS]
    assert {layer.op for layer in trace.layers} >= {"scaleddotproductattention", "linear", "groupedmm"}


@pytest.mark.parametrize("name", sorted(MOE))
def test_the_experts_macs_are_every_routed_row_through_one_expert(name):
    """tokens x top_k rows, each through its expert's up (gate and up, 2 x intermediate) and down projections:
    what even routing gives, and any other routing too, so the records need no assumption about the router."""
    config = MOE[name]
    hidden, top_k = config["hidden_size"], config["num_experts_per_tok"]
    intermediate = config.get("moe_intermediate_size", config.get("intermediate_size"))
    rows = 2 * 16 * top_k
    grouped = [layer for layer in _meta_trace(name, 2, 16).layers if layer.op == "groupedmm"]
    assert [layer.config["input_shapes"][0] for layer in grouped] == [[rows, hidden], [rows, intermediate]]
    assert sum(layer.flops for layer in grouped) == rows * (hidden * 2 * intermediate + intermediate * hidden)
    assert sum(layer.params for layer in grouped) == 4 * 3 * intermediate * hidden  # all four experts' weights


def _routed_evenly(module, args, output):
    """A router's output with token t's j-th choice sent to expert (t x top_k + j) mod E: the even routing a meta
    trace assumes where the experts' loop reads the choices."""
    logits, scores, indices = output
    choices = torch.arange(indices.numel()) % module.num_experts
    return logits, scores, choices.view(indices.shape)


@pytest.mark.parametrize("name", sorted(MOE))
def test_an_experts_loop_traces_on_meta_as_a_run_routed_evenly(name):
    """transformers' eager experts (and Mixtral's and Qwen2-MoE's before transformers 5) loop in Python over the
    experts chosen (nonzero) and the tokens each got (torch.where): values meta tensors do not have. On meta the
    choices are assumed even, and the trace says so."""
    with MetaDevice():
        spec = resolve_model(name, hf_config=MOE[name])
    spec.module.config._experts_implementation = "eager"  # the experts' config is the model's
    trace = trace_layers(spec.module, spec.model_inputs, 2, label=spec.name, seq_len=7)
    assert (trace.tensors, trace.reason) == ("meta", "")  # was real: "torch.nonzero() raises unimplemented"
    assert trace.assumed == EVEN_ROUTING and "even share" in trace.description

    real_spec = resolve_model(name, hf_config=MOE[name])
    real_spec.module.config._experts_implementation = "eager"
    for part in real_spec.module.modules():
        if type(part).__name__.endswith("TopKRouter"):
            part.register_forward_hook(_routed_evenly)
    real, _ = run_and_extract(real_spec.module, real_spec.model_inputs, 2, seq_len=7)
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
    width = 2 * MOE[name].get("moe_intermediate_size", MOE[name].get("intermediate_size"))
    up = [  # the experts' functional linear calls, each given one expert's gate and up weight
        layer.config["input_shapes"][0][0]
        for layer in trace.layers
        if layer.op == "linear" and "args" in layer.config and layer.params == width * 32
    ]
    assert up == [7, 7, 7, 7]  # 2 x 7 tokens x top 2 = 28 choices over 4 experts


class LoopedExperts(nn.Module):
    """A sparse MoE block as transformers 4's Mixtral wrote it: a loop over every expert, its tokens found with
    torch.where on a one-hot mask of the router's top-k choices, each expert an MLP of torch.nn layers."""

    def __init__(self, hidden=16, experts=4, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(hidden, experts, bias=False)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, 24), nn.SiLU(), nn.Linear(24, hidden)) for _ in range(experts)
        )

    def forward(self, x):
        probs = F.softmax(self.gate(x), dim=-1)
        weights, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights /= weights.sum(dim=-1, keepdim=True)
        mask = F.one_hot(chosen, num_classes=len(self.experts)).permute(2, 1, 0)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            slot, token = torch.where(mask[e])
            out.index_add_(0, token, expert(x[token]) * weights[token, slot, None])
        return out


def _choosing_evenly(module, args, logits):
    """Router logits whose top-k picks expert (t x top_k + j) mod E as token t's j-th choice."""
    tokens, experts = logits.shape
    even = torch.zeros_like(logits)
    for choice in range(tokens * 2):
        even[choice // 2, choice % experts] = 10.0 - choice % 2
    return even


def test_a_loop_over_every_expert_traces_on_meta_as_a_run_routed_evenly():
    module = LoopedExperts()
    trace = trace_layers(module, (16,), 9)
    assert (trace.tensors, trace.assumed) == ("meta", EVEN_ROUTING)
    module.gate.register_forward_hook(_choosing_evenly)
    real, _ = extract_layers_from_example(module, (torch.randn(9, 16),), {})
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
    rows = [layer.config["input_shapes"][0][0] for layer in trace.layers if layer.name.endswith(".0")]
    assert rows == [5, 5, 4, 4]  # 9 tokens x top 2 = 18 choices over 4 experts


def test_a_trace_that_reads_no_routing_assumes_none():
    assert _meta_trace("hf:mixtral", 1, 8).assumed == ""  # grouped matmul: every routing gives the same records


BIG = textwrap.dedent(
    """
    import resource, warnings
    warnings.simplefilter("ignore")
    from hwprof.models.spec import resolve_model
    from hwprof.models.tracing import MetaDevice, trace_layers
    from transformers.models.mixtral import modeling_mixtral  # noqa: F401  (imports apart from the trace)

    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with MetaDevice():  # Mixtral-8x7B's default config (width 4096, 8 experts of 14336), 2 of its 32 layers
        spec = resolve_model("hf:mixtral", hf_config={"num_hidden_layers": 2})
    trace = trace_layers(spec.module, spec.model_inputs, 1, label=spec.name)  # no rebuild: no real weights
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - imported
    print(trace.tensors, sum(layer.flops for layer in trace.layers if layer.op == "groupedmm"), grown // 1024)
    """
)


@pytest.mark.slow  # a fresh process for its peak memory: importing torch and transformers takes most of 9 s
def test_a_mixtral_8x7b_sized_config_is_traced_without_its_weights():
    """Two layers of Mixtral-8x7B hold 2.8 B float32 weights (11 GB); on meta none is allocated. Before, meta
    refused the grouped matmul and a module built on meta, with no way to rebuild it, was refused."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", BIG], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    tensors, macs, grown_mb = done.stdout.split()
    assert tensors == "meta"
    assert int(macs) == 2 * 128 * 2 * 3 * 4096 * 14336  # 2 layers, 128 tokens x top 2, gate + up + down
    assert int(grown_mb) < 200  # beyond the imports; the weights alone are 11,000 MB


def test_a_prediction_says_when_the_experts_were_assumed_routed_evenly(tmp_path):
    """The trace knew it had stood in for the router's choices; the prediction said nothing of it."""
    import hwprof
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
    predictor = hwprof.load_predictor(path)
    looped = predictor.predict((LoopedExperts(), torch.randn(1, 16)))
    assert any(EVEN_ROUTING in warning for warning in looped.warnings)
    plain = predictor.predict((nn.Sequential(nn.Linear(16, 16)), torch.randn(1, 16)))
    assert not any("expert" in warning for warning in plain.warnings)


def test_the_experts_implementation_is_built_as_named():
    """`_experts_implementation=eager` was accepted, named, and ignored: from_config built the grouped matmul."""
    from hwprof.errors import HwprofError

    spec = resolve_model("hf:mixtral", hf_config={**MOE["hf:mixtral"], "experts_implementation": "eager"})
    assert spec.module.config._experts_implementation == "eager" and "experts_implementation=eager" in spec.name
    trace = trace_layers(spec.module, spec.model_inputs, 1, label=spec.name, seq_len=8)
    assert "groupedmm" not in {layer.op for layer in trace.layers} and trace.assumed == EVEN_ROUTING
    assert resolve_model(spec.name).module.config._experts_implementation == "eager"  # rebuilt by its name
    with pytest.raises(HwprofError, match="write experts_implementation=eager"):
        resolve_model("hf:mixtral", hf_config={**MOE["hf:mixtral"], "_experts_implementation": "eager"})
