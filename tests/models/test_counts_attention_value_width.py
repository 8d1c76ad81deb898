"""scaled_dot_product_attention whose values are narrower than its queries and keys (DeepSeek-V3's multi-head
latent attention: 192-wide queries and keys, 128-wide values) does L x S x E MACs for its scores and L x S x Ev for
the weighted values, not 2 x L x S x E."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from hwprof.models.inputs import InputSpec, ModelInputs
from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Attention(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


SHAPES = ((4, 64, 32), (4, 80, 32), (4, 80, 16))  # heads, length, width of q, k and v
MACS = 2 * 4 * 64 * 80 * (32 + 16)


def test_values_narrower_than_queries_on_both_traces():
    q, k, v = (torch.randn(2, *shape) for shape in SHAPES)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        Attention()(q, k, v)
    assert counter.get_total_flops() // 2 == MACS
    real, _ = extract_layers_from_example(Attention(), (q, k, v), {})
    meta = trace_layers(Attention(), ModelInputs(tuple(InputSpec(None, torch.float32, s) for s in SHAPES)), 2)
    assert meta.tensors == "meta"
    assert [(layer.op, layer.flops) for layer in real] == [("scaleddotproductattention", MACS)]
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]


def test_equal_widths_count_scores_and_values_alike():
    q = torch.randn(1, 2, 16, 8)
    real, _ = extract_layers_from_example(Attention(), (q, q, q), {})
    assert [layer.flops for layer in real] == [2 * q.numel() * 16]
