"""nn.MultiheadAttention's masks were in its config by shape alone: a padding mask and an attention mask of one shape,
or a bool mask (the fused kernel) and a float one (the unfused path), shared a config_id and one timing."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers

TOKENS = 6  # as many tokens as sequences: a padding mask (N, S) has an attention mask's (L, S) shape


class Masked(nn.Module):
    def __init__(self, mask_name: str | None = None, mask: torch.Tensor | None = None):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True)
        self.mask_name, self.mask = mask_name, mask

    def forward(self, x):
        masks = {self.mask_name: self.mask} if self.mask_name else {}
        return self.attention(x, x, x, need_weights=False, **masks)[0]


def attention_layer(mask_name: str | None = None, mask: torch.Tensor | None = None):
    x = torch.randn(TOKENS, TOKENS, 16)
    layers, _ = extract_layers_from_example(Masked(mask_name, mask), (x,), {})
    (layer,) = [layer for layer in layers if layer.op == "multiheadattention"]
    return layer


def causal(dtype: torch.dtype) -> torch.Tensor:
    above = torch.ones(TOKENS, TOKENS, dtype=torch.bool).triu(1)
    return above if dtype == torch.bool else torch.zeros(TOKENS, TOKENS).masked_fill(above, float("-inf"))


def test_a_padding_mask_and_an_attention_mask_of_one_shape_are_two_configs():
    padding = attention_layer("key_padding_mask", causal(torch.bool))
    attending = attention_layer("attn_mask", causal(torch.bool))
    assert padding.config["masks"] == {"key_padding_mask": "bool"}
    assert attending.config["masks"] == {"attn_mask": "bool"}
    assert padding.config_id("cpu") != attending.config_id("cpu")


def test_a_bool_mask_and_a_float_mask_are_two_configs():
    bool_mask, float_mask = (
        attention_layer("attn_mask", causal(torch.bool)),
        attention_layer("attn_mask", causal(torch.float32)),
    )
    assert float_mask.config["masks"] == {"attn_mask": "float32"}
    assert bool_mask.config_id("cpu") != float_mask.config_id("cpu")


def test_an_attention_without_masks_keeps_its_config():
    layer = attention_layer()
    assert "masks" not in layer.config
    assert layer.config["kwargs"] == {"need_weights": False}


def test_masks_given_by_position_are_named_too():
    attention = nn.MultiheadAttention(16, 2)
    x, padding = torch.randn(TOKENS, 2, 16), torch.zeros(2, TOKENS, dtype=torch.bool)
    (layer,) = extract_layers_from_example(attention, (x, x, x, padding), {})[0]
    assert layer.config["masks"] == {"key_padding_mask": "bool"}


class CausalMade(nn.Module):
    """A mask made inside the network, as a decoder makes its causal mask."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        mask = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).triu(1)
        return self.attention(x, x, x, attn_mask=mask, need_weights=False)[0]


def test_prediction_names_the_masks_as_measure_does():
    module = CausalMade()
    real, _ = run_and_extract(module, (TOKENS, 16), 2)
    predicted = trace_layers(module, (TOKENS, 16), 2)
    assert predicted.tensors == "meta"
    assert [layer.facts() for layer in predicted.layers] == [layer.facts() for layer in real]
    assert real[-1].config["masks"] == {"attn_mask": "bool"}
