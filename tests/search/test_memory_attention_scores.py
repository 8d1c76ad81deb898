"""memory_mb counts the batch x heads x L x S attention scores an nn.MultiheadAttention builds inside itself
(one matrix on its fused kernel, the scores and their softmax where it returns its weights), and none where
fused scaled_dot_product_attention runs, which builds no score matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.search.study import _layer_metrics

LENGTH, WIDTH, HEADS, FLOAT = 64, 32, 8, 4


def memory_bytes(module, input_shape=(LENGTH, WIDTH), batch_size=1) -> float:
    """The counted activation memory, weights aside, in bytes."""
    return _layer_metrics(module.eval(), input_shape, batch_size, weight_bytes=0)["memory_mb"] * 1e6


class SelfAttention(nn.Module):
    """Batch-first self-attention without biases, which keeps it off the fused kernel."""

    def __init__(self, **call):
        super().__init__()
        self.attention = nn.MultiheadAttention(WIDTH, HEADS, bias=False, batch_first=True)
        self.call = call

    def forward(self, x):
        return self.attention(x, x, x, **self.call)[0]


class Sdpa(nn.Module):
    def forward(self, x):
        q = x.view(x.shape[0], LENGTH, HEADS, WIDTH // HEADS).transpose(1, 2)
        return F.scaled_dot_product_attention(q, q, q)


def test_a_transformer_layer_counts_its_score_matrix_and_grows_with_heads():
    def encoder(heads):
        return nn.TransformerEncoderLayer(WIDTH, heads, 4 * WIDTH, dropout=0.0, batch_first=True)

    # the attention's query, key, value and output, and one score matrix on the fused kernel
    attention = 4 * LENGTH * WIDTH * FLOAT + HEADS * LENGTH * LENGTH * FLOAT
    assert memory_bytes(encoder(HEADS)) == attention
    assert memory_bytes(encoder(2 * HEADS)) > memory_bytes(encoder(HEADS))


def test_attention_returning_its_weights_counts_the_scores_and_their_softmax():
    batch = 3
    scores = batch * HEADS * LENGTH * LENGTH * FLOAT
    inputs_and_output = 4 * batch * LENGTH * WIDTH * FLOAT
    weights = batch * LENGTH * LENGTH * FLOAT  # the second output: the scores averaged over the heads
    assert memory_bytes(SelfAttention(), batch_size=batch) == inputs_and_output + weights + 2 * scores


def test_attention_on_scaled_dot_product_attention_counts_no_score_matrix():
    assert memory_bytes(SelfAttention(need_weights=False)) == 4 * LENGTH * WIDTH * FLOAT
    assert memory_bytes(Sdpa()) < HEADS * LENGTH * LENGTH * FLOAT


def test_with_the_fused_path_turned_off_attention_counts_the_unfused_paths_two_matrices(monkeypatch):
    """torch.backends.mha.set_fastpath_enabled(False) sends every call down the unfused path, as the trace tells
    it: the count followed the layer's settings alone and took the fused kernel's one matrix."""
    attention = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)  # biased self-attention: the fused kernel's

    class Biased(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = attention

        def forward(self, x):
            return self.attention(x, x, x)[0]

    fused = memory_bytes(Biased())
    monkeypatch.setattr(torch.backends.mha, "get_fastpath_enabled", lambda: False)
    assert memory_bytes(Biased()) - fused == HEADS * LENGTH * LENGTH * FLOAT  # the softmax beside the scores
