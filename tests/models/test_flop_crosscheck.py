"""Every network's MAC count against torch.utils.flop_counter.FlopCounterMode.

FlopCounterMode counts the matrix products (convolutions, linear layers, matmul/bmm) and nothing else, so
the comparison is over hwprof's layers of those ops. Two ops differ by design, both fused kernels that
FlopCounterMode has no formula for, so it counts 0 for them:
- scaled_dot_product_attention on the CPU (aten._scaled_dot_product_flash_attention_for_cpu), where hwprof
  counts the scores and the weighted sum (2 x q.numel() x key length MACs);
- nn.MultiheadAttention: where it takes PyTorch's inference fast path (aten._native_multi_head_attention;
  the test sees which kernels ran) the counter sees none of it, where hwprof counts the projections, scores
  and weighted sum; elsewhere it computes the scores and weighted sum through the same fused CPU attention
  kernel, so the counter sees only the projections (2 x batch x query length x key length x embed_dim
  MACs fewer).
The test compares everything else and checks that these ops are the whole difference.
"""

from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from test_torch_nn_blocks import LstmLanguageModel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from fakes.zoo import TINY_HF
from hwprof.models.inputs import SEQ, InputSpec, ModelInputs
from hwprof.models.layers import run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.sample_models import MODELS

MATRIX_OPS = (
    "conv",
    "linear",
    "matmul",
    "addmm",
    "baddbmm",
    "lstm",
    "gru",
    "rnn",
)  # recurrent ones: their cells' products
NATIVE_MHA = "aten._native_multi_head_attention"


class KernelNames(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def cross_check(spec, seq_len=None, unfused=False):
    """`unfused`: the counter sees the parts of torch.nn's blocks only where PyTorch runs them unfused, without
    the transformer inference fast path (one aten._transformer_encoder_layer_fwd) and oneDNN's LSTM."""
    layers, _ = run_and_extract(spec.module, spec.model_inputs, 1, seq_len=seq_len)
    args, kwargs = spec.model_inputs.make(1, seq_len)
    fast_path = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(not unfused and fast_path)
    try:
        with torch.backends.mkldnn.flags(enabled=not unfused and torch.backends.mkldnn.enabled), torch.no_grad():
            with FlopCounterMode(display=False) as counter, KernelNames() as kernels:
                spec.module.eval()(*args, **kwargs)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast_path)
    fused = sum(layer.flops for layer in layers if layer.op == "scaleddotproductattention")
    for layer in layers:
        if layer.op == "multiheadattention":
            fused += layer.flops if NATIVE_MHA in kernels.names else attention_scores_macs(layer)
    attention = ("multiheadattention", "scaleddotproductattention")
    ours = sum(layer.flops for layer in layers if layer.op.startswith((*MATRIX_OPS, *attention)))
    ours -= fused
    counted = counter.get_total_flops() / 2  # FLOPs -> multiply-accumulates
    names = {str(op) for op in counter.get_flop_counts().get("Global", {})}
    assert not any("attention" in name for name in names), f"FlopCounterMode now counts attention: {names}"
    assert ours == pytest.approx(counted, rel=0.02), f"{spec.name}: hwprof {ours} MACs, FlopCounterMode {counted}"
    return ours, fused


def attention_scores_macs(layer):
    """Scores and weighted sum of a batch-first nn.MultiheadAttention: 2 x B x T x S x E."""
    (batch, target, embed), (_, source, _) = layer.config["input_shapes"][:2]
    return 2 * batch * target * source * embed


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_builtin_models(name):
    ours, fused = cross_check(resolve_model(name))
    assert ours > 0
    assert (fused > 0) == name.startswith("vit")  # only the ViTs have attention


@pytest.mark.parametrize("name", ["torchvision:squeezenet1_1", "torchvision:mobilenet_v3_small"])
def test_torchvision_models(name):
    pytest.importorskip("torchvision")
    cross_check(resolve_model(name))


@pytest.mark.slow
def test_timm_model():
    pytest.importorskip("timm")
    cross_check(resolve_model("timm:convnext_atto"))


@pytest.mark.parametrize("name", sorted(TINY_HF))
def test_hugging_face_models(name):
    pytest.importorskip("transformers")
    ours, fused = cross_check(resolve_model(name, hf_config=TINY_HF[name]), seq_len=16)
    assert fused > 0  # attention ran through the fused kernel the counter does not see


class CellLoop(nn.Module):
    """A cell stepped in Python, as hand-written decoders do."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        state = None
        for step in x.unbind(1):
            state = self.cell(step, state)
        return state


def float_tokens(width):
    return ModelInputs((InputSpec(None, torch.float32, (SEQ, width)),))


TORCH_NN_BLOCKS = {
    "transformer_encoder": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 256, batch_first=True, dropout=0.0), 2),
        float_tokens(64),
    ),
    "transformer": (
        lambda: nn.Transformer(32, 2, 1, 1, 64, dropout=0.0, batch_first=True),
        ModelInputs((InputSpec(None, torch.float32, (SEQ, 32)), InputSpec(None, torch.float32, (8, 32)))),
    ),
    "lstm_lm": (LstmLanguageModel, ModelInputs((InputSpec(None, torch.int64, (SEQ,), 0, 1000),))),
    "gru_bidirectional": (lambda: nn.GRU(8, 16, 2, bidirectional=True, batch_first=True), float_tokens(8)),
    "rnn": (lambda: nn.RNN(8, 16, batch_first=True), float_tokens(8)),
    "lstm_projected": (lambda: nn.LSTM(8, 16, 2, batch_first=True, proj_size=4), float_tokens(8)),
    "lstm_cell": (lambda: CellLoop(nn.LSTMCell(8, 16)), float_tokens(8)),
    "gru_cell": (lambda: CellLoop(nn.GRUCell(8, 16)), float_tokens(8)),
}


@pytest.mark.parametrize("name", sorted(TORCH_NN_BLOCKS))
def test_torch_nn_blocks(name):
    build, inputs = TORCH_NN_BLOCKS[name]
    ours, _ = cross_check(SimpleNamespace(name=name, module=build().eval(), model_inputs=inputs), 12, unfused=True)
    assert ours > 0
