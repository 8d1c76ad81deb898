"""torch.nn's own blocks: composite ones (TransformerEncoderLayer, Transformer) recorded as their parts, and
recurrent layers (RNN, LSTM, GRU and their cells) with their MACs counted by hand, on meta as on real tensors."""

import warnings

import pytest
import torch
import torch.nn as nn

from hwprof.models.inputs import SEQ, InputSpec, ModelInputs
from hwprof.models.layers import UncountedModuleWarning, extract_layers_from_example
from hwprof.models.tracing import trace_layers

# TransformerEncoderLayer(64, 4, 256) on 32 tokens: attention 3*T*E^2 + 2*T^2*E + T*E^2, the two linear
# layers 2*T*E*F, and one MAC per element of each norm (2), residual add (2) and the ReLU (T*F)
ENCODER_LAYER_MACS = (3 * 32 * 64 * 64 + 2 * 32 * 32 * 64 + 32 * 64 * 64) + 2 * 32 * 64 * 256 + 4 * 32 * 64 + 32 * 256


def encoder():
    layer = nn.TransformerEncoderLayer(64, 4, 256, batch_first=True, dropout=0.0)
    return nn.TransformerEncoder(layer, 2).eval()


class LstmLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(1000, 64)
        self.rnn = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 1000)

    def forward(self, input_ids):
        hidden, _ = self.rnn(self.embedding(input_ids))
        return self.head(hidden)


def test_an_encoder_inside_a_network_is_recorded_as_its_parts_with_their_macs():
    layers, _ = extract_layers_from_example(encoder(), (torch.randn(1, 32, 64),), {})
    assert sum(layer.flops for layer in layers) == 2 * ENCODER_LAYER_MACS
    names = [layer.name for layer in layers]
    assert "layers.0.self_attn" in names and "layers.1.linear2" in names
    assert not any(layer.op.startswith("transformer") for layer in layers)


def test_an_lstms_macs_are_gates_times_input_and_hidden_times_hidden_per_step_and_layer():
    layers, _ = extract_layers_from_example(LstmLanguageModel().eval(), (torch.randint(0, 1000, (1, 32)),), {})
    (lstm,) = [layer for layer in layers if layer.op == "lstm"]
    assert lstm.flops == 32 * 4 * ((64 + 128) * 128 + (128 + 128) * 128)  # 7,340,032
    assert lstm.weight_bytes == 4 * sum(4 * 128 * (size + 128) + 2 * 4 * 128 for size in (64, 128))
    assert lstm.input_bytes == 32 * 64 * 4
    assert lstm.output_bytes == 4 * (32 * 128 + 2 * 2 * 128)  # the outputs and the last hidden and cell states


@pytest.mark.parametrize(
    "module, shape, macs",
    [
        # bidirectional: the second layer reads both directions' states
        (nn.GRU(8, 16, 2, bidirectional=True, batch_first=True), (5, 8), 5 * 2 * 3 * 16 * ((8 + 16) + (32 + 16))),
        (nn.RNN(8, 16, nonlinearity="relu"), (1, 8), 1 * 16 * (8 + 16)),
        # projected states: 4 states of 4 elements in, and each step's 16 projected down to 4
        (nn.LSTM(8, 16, 2, proj_size=4, batch_first=True), (5, 8), 5 * (4 * 16 * ((8 + 4) + (4 + 4)) + 2 * 16 * 4)),
        (nn.LSTMCell(8, 16), (8,), 4 * (8 + 16) * 16),
        (nn.GRUCell(8, 16), (8,), 3 * (8 + 16) * 16),
    ],
)
def test_recurrent_layers_alone_count_their_macs_on_meta_as_on_real_tensors(module, shape, macs):
    module.eval()
    real, _ = extract_layers_from_example(module, (torch.randn(3, *shape),), {})
    assert [layer.flops for layer in real] == [3 * macs]
    traced = trace_layers(module, ModelInputs.from_shape(shape), 3)
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


@pytest.mark.parametrize("build", [encoder, LstmLanguageModel])
def test_torch_nn_blocks_traced_on_meta_give_their_real_records(build):
    module = build().eval()
    if isinstance(module, LstmLanguageModel):
        inputs = ModelInputs((InputSpec(None, torch.int64, (SEQ,), 0, 1000),))
    else:
        inputs = ModelInputs((InputSpec(None, torch.float32, (SEQ, 64)),))
    traced = trace_layers(module, inputs, 2, seq_len=16)
    real, _ = extract_layers_from_example(module, *inputs.make(2, 16))
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class Scaled(nn.Softmax):
    """A torch.nn layer given weights, which hwprof has no MACs formula for."""

    def __init__(self):
        super().__init__(dim=-1)
        self.weight = nn.Parameter(torch.ones(8, 8))


class WithScaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scaled = Scaled()

    def forward(self, x):
        if x.shape[0] > 0:  # untraceable: hooks record Scaled as one layer
            return self.scaled(x)
        return x


def test_a_module_with_weights_and_no_macs_formula_is_noted_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            extract_layers_from_example(WithScaled(), (torch.randn(2, 8),), {})
    notes = [str(w.message) for w in caught if issubclass(w.category, UncountedModuleWarning)]
    assert len(notes) == 1 and "Scaled" in notes[0]


def test_norms_and_modules_with_a_macs_formula_are_not_noted():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedModuleWarning)
        extract_layers_from_example(
            nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.PReLU()), (torch.randn(2, 8),), {}
        )
        (bilinear,), _ = extract_layers_from_example(Bilinear(), (torch.randn(2, 8),), {})
    assert bilinear.flops == 2 * 8 * 8 * 4  # each output element: a bilinear form of 8 x 8 products


class Bilinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.bilinear = nn.Bilinear(8, 8, 4)

    def forward(self, x):
        return self.bilinear(x, x)
