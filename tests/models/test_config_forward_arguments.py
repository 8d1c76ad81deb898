"""A module's plain forward arguments choose its kernel (MultiheadAttention's need_weights=False takes the fused
path), and its recipe passes them again, yet they never reached its config: two calls differing only in them
shared a config_id, and so the timing of whichever was measured first."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers


class Attending(nn.Module):
    def __init__(self, bias: bool = True, **arguments):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True, bias=bias)
        self.arguments = arguments

    def forward(self, x, mask=None):
        return self.attention(x, x, x, attn_mask=mask, **self.arguments)[0]


X, MASK = torch.randn(2, 6, 16), torch.ones(6, 6, dtype=torch.bool).triu(1)


def attention_layer(module: nn.Module):
    layers, _ = extract_layers_from_example(module, (X, MASK), {})
    assert [layer.op for layer in layers] == ["multiheadattention"]
    return layers[0]


def test_arguments_given_otherwise_than_the_defaults_enter_the_config():
    plain = attention_layer(Attending())
    fused = attention_layer(Attending(need_weights=False))
    causal = attention_layer(Attending(need_weights=False, is_causal=True))
    assert fused.config["kwargs"] == {"need_weights": False}
    assert causal.config["kwargs"] == {"need_weights": False, "is_causal": True}
    assert len({layer.config_id("cpu") for layer in (plain, fused, causal)}) == 3


def test_arguments_at_their_defaults_keep_the_config_a_call_without_them_has():
    plain = attention_layer(Attending())
    spelled = attention_layer(Attending(need_weights=True, is_causal=False))
    assert "kwargs" not in spelled.config
    assert spelled.config_id("cpu") == plain.config_id("cpu")


def test_attention_without_biases_is_its_own_config():
    biased, unbiased = attention_layer(Attending()), attention_layer(Attending(bias=False))
    assert unbiased.config["bias"] is False and "bias" not in biased.config
    assert biased.config_id("cpu") != unbiased.config_id("cpu")


def test_prediction_traces_the_arguments_as_measure_does():
    module = Attending(need_weights=False)
    shapes = torch.Size((6, 16))
    real, _ = run_and_extract(module, shapes, 2)
    predicted = trace_layers(module, shapes, 2)
    assert predicted.tensors == "meta"
    assert [layer.facts() for layer in predicted.layers] == [layer.facts() for layer in real]
