"""A write at indexed places of a tensor (a static KV cache's one slot, written by index_copy_ as transformers'
StaticCache does) was counted as MACs of the whole destination and bytes of all of it read and written, so its
figures grew with the cache's length while its work stayed the same."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.inputs import from_examples
from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers

HEADS, WIDTH, POSITION = 2, 8, 3
# the key written, laid out as a split of q, k and v lays it out: (batch, heads, 1 token, width), not in order
KEY_ELEMENTS = HEADS * WIDTH
FLOAT_BYTES, INDEX_BYTES = 4, 8


WRITES = {
    "index_copy_": lambda cache, slot, key: cache.index_copy_(2, slot, key),
    # the cache seen as (slots, heads, width): one slot is one index
    "index_put_": lambda cache, slot, key: cache[0].transpose(0, 1).index_put_((slot,), key[0].transpose(0, 1)),
    "scatter_": lambda cache, slot, key: cache.scatter_(2, slot.view(1, 1, 1, 1).expand_as(key), key),
    "index_add_": lambda cache, slot, key: cache.index_add_(2, slot, key),
    "scatter_add_": lambda cache, slot, key: cache.scatter_add_(2, slot.view(1, 1, 1, 1).expand_as(key), key),
}
# the elements each adds into its places: one add each; placing them is a copy, with no MACs
ACCUMULATED = {"index_add_": KEY_ELEMENTS, "scatter_add_": KEY_ELEMENTS}
# bytes of the indices each reads: index_copy_'s one slot, scatter_'s one per element written
INDEX_READ = {"index_copy_": INDEX_BYTES, "index_put_": INDEX_BYTES, "index_add_": INDEX_BYTES}
INDEX_READ |= {"scatter_": KEY_ELEMENTS * INDEX_BYTES, "scatter_add_": KEY_ELEMENTS * INDEX_BYTES}


class CacheWrite(nn.Module):
    """Writes one token's key into a cache of `length` slots, then reads the cache."""

    def __init__(self, write: str, length: int):
        super().__init__()
        self.write = WRITES[write]
        self.register_buffer("cache", torch.zeros(1, HEADS, length, WIDTH))
        self.register_buffer("slot", torch.tensor([POSITION]))

    def forward(self, x):
        key = x.view(1, 1, HEADS, WIDTH).transpose(1, 2)
        self.write(self.cache, self.slot, key)
        return self.cache.sum()


def written(module: nn.Module, method: str):
    x = torch.randn(1, KEY_ELEMENTS)
    args, kwargs = ((x,), {}) if method == "fx" else ((), {"x": x})
    layers, found = extract_layers_from_example(module, args, kwargs)
    assert found == method
    ops = [layer for layer in layers if layer.op in ("indexcopy", "indexput", "scatter", "indexadd", "scatteradd")]
    assert len(ops) == 1
    return ops[0]


@pytest.mark.parametrize("method", ["fx", "hooks"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_at_one_slot_costs_the_elements_written_whatever_the_cache_length(write, method):
    short, long = written(CacheWrite(write, 16), method), written(CacheWrite(write, 1024), method)
    for layer in (short, long):
        assert layer.config["inplace"] is True
        assert layer.flops == ACCUMULATED.get(write, 0)
        added = KEY_ELEMENTS * FLOAT_BYTES if write in ACCUMULATED else 0  # the places it adds into are read too
        assert layer.input_bytes == INDEX_READ[write] + KEY_ELEMENTS * FLOAT_BYTES + added
        assert layer.output_bytes == KEY_ELEMENTS * FLOAT_BYTES
    assert short.config_id("cpu") != long.config_id("cpu")  # another buffer: its config still says its shape


def test_the_recipe_still_writes_into_a_cache_of_the_recorded_length():
    layer = written(CacheWrite("index_copy_", 64), "fx")
    cache = layer.call.bind("cpu")()
    assert cache.shape == (1, HEADS, 64, WIDTH)


def test_a_write_out_of_place_copies_the_whole_destination_but_does_no_arithmetic():
    cache, key = torch.zeros(1, HEADS, 256, WIDTH), torch.randn(1, HEADS, 1, WIDTH)
    layers, _ = extract_layers_from_example(Copied(cache), (key,), {})
    (layer,) = [layer for layer in layers if layer.op == "indexcopy"]
    assert layer.flops == 0
    assert layer.output_bytes == cache.numel() * FLOAT_BYTES
    assert "inplace" not in layer.config


class Copied(nn.Module):
    def __init__(self, cache: torch.Tensor):
        super().__init__()
        self.register_buffer("cache", cache)

    def forward(self, key):
        return torch.index_copy(self.cache, 2, torch.full((1,), POSITION), key)


@pytest.mark.parametrize("write", ["index_copy_", "scatter_"])
def test_predict_meta_trace_and_measure_real_trace_agree(write):
    module = CacheWrite(write, 128)
    inputs = from_examples(torch.randn(1, KEY_ELEMENTS))
    real, _ = run_and_extract(module, inputs, 1)
    meta = trace_layers(module, inputs, 1)
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]
