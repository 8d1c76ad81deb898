"""A decoder run with use_cache returns its key-value cache beside its hidden states: the network writes it, so
its output_bytes count it."""

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.models.recall import tensors_in

transformers = pytest.importorskip("transformers")

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
FACTORY = """
import torch
from transformers import GPT2Config, GPT2Model


def decoder():
    torch.manual_seed(0)
    config = GPT2Config(n_embd=32, n_head=2, n_layer=2, n_positions=64, vocab_size=100)
    return GPT2Model(config).eval()  # use_cache is on, as transformers builds it
"""


def kv(*shape) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(shape), torch.ones(shape)


def test_tensors_in_walks_a_cache_layer_by_layer():
    cache = transformers.DynamicCache()
    first, second = kv(1, 2, 4, 8), kv(1, 2, 4, 8)
    cache.update(*first, 0)
    cache.update(*second, 1)
    found = tensors_in((torch.zeros(3), {"past_key_values": cache}))
    assert [t.shape for t in found] == [(3,)] + [(1, 2, 4, 8)] * 4
    assert sum(t.numel() for t in found) == 3 + 4 * 64
    both = transformers.EncoderDecoderCache(cache, transformers.DynamicCache())
    assert len(tensors_in(both)) == 4  # the cross-attention cache holds nothing yet


def test_what_is_no_cache_is_left_as_before():
    """A cache's class, a module and plain values hold no tensor of an output's."""
    tensor = torch.ones(2)
    found = tensors_in([1, None, "x", transformers.DynamicCache, torch.nn.Linear(2, 2), tensor])
    assert len(found) == 1 and found[0] is tensor


def test_a_network_returning_its_cache_writes_it(tmp_path):
    """Its output_bytes held last_hidden_state alone: 8 tokens x 32 floats, 1024 B of 5120."""
    (tmp_path / "dec.py").write_text(FACTORY)
    out = tmp_path / "d.parquet"
    args = [f"{tmp_path / 'dec.py'}:decoder", "--input", "input_ids:int64[seq]", "--seq-len", "8", "--no-layers"]
    result = CliRunner().invoke(main, ["measure", *args, *FAST, "--out", str(out)])
    assert result.exit_code == 0, result.output
    network = pd.read_parquet(out).query("kind == 'network'")
    hidden, cache = 8 * 32 * 4, 2 * 2 * (2 * 8 * 16) * 4  # layers x (keys, values) x [heads, tokens, head_dim]
    assert network["output_bytes"].tolist() == [hidden + cache]
