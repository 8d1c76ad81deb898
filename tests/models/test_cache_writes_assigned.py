"""A KV cache written by slice assignment (`cache[:b, :, pos:pos + t] = k`, as gpt-fast and Llama's reference code
write it) copied the keys into the cache, yet Tensor.__setitem__ returns None and the write was no layer at all."""

import torch
import torch.nn as nn

from hwprof.models.inputs import from_examples
from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers

HEADS, WIDTH, TOKENS, POSITION = 2, 8, 4, 3
KEY_BYTES = HEADS * TOKENS * WIDTH * 4


class SliceCache(nn.Module):
    """Writes a prompt's keys into a cache of `length` slots from `POSITION`, then attends over the cache."""

    def __init__(self, length: int):
        super().__init__()
        self.register_buffer("cache", torch.zeros(1, HEADS, length, WIDTH))

    def forward(self, x):
        batch, tokens, _ = x.shape
        key = x.view(batch, tokens, HEADS, WIDTH).transpose(1, 2)  # as a split of q, k and v lays it out
        self.cache[:batch, :, POSITION : POSITION + tokens] = key
        return self.cache[:batch].sum()


class Filled(nn.Module):
    """A number assigned at places: a column of slices, or a mask's True."""

    def forward(self, x):
        y = x * 2
        y[:, 0] = 0.0
        y[y > 0] = 1.0
        return y


def prompt() -> torch.Tensor:
    return torch.randn(1, TOKENS, HEADS * WIDTH)


def assignments(layers):
    return [layer for layer in layers if layer.op == "setitem"]


def test_a_slice_assigned_into_a_cache_is_an_in_place_copy_of_the_value_written():
    for length in (16, 1024):
        layers, _ = extract_layers_from_example(SliceCache(length), (), {"x": prompt()})
        (layer,) = assignments(layers)
        assert layer.config["inplace"] is True
        assert layer.config["input_shapes"] == [[1, HEADS, length, WIDTH], [1, HEADS, TOKENS, WIDTH]]
        assert layer.config["output_shape"] == [1, HEADS, length, WIDTH]
        assert layer.config["input_layouts"] == [None, [TOKENS * HEADS * WIDTH, WIDTH, HEADS * WIDTH, 1]]
        assert (layer.flops, layer.input_bytes, layer.output_bytes) == (0, KEY_BYTES, KEY_BYTES)


def test_its_recipe_writes_the_same_places_of_a_cache_of_the_same_length():
    layers, _ = extract_layers_from_example(SliceCache(64), (), {"x": prompt()})
    (layer,) = assignments(layers)
    assert layer.call.target is torch.Tensor.__setitem__
    assert layer.call.args[1] == (slice(None, 1), slice(None), slice(POSITION, POSITION + TOKENS))
    assert layer.call.args[2].strides == (TOKENS * HEADS * WIDTH, WIDTH, HEADS * WIDTH, 1)
    assert layer.call.bind("cpu")() is None


def test_predict_meta_trace_and_measure_real_trace_both_record_it():
    module, inputs = SliceCache(128), from_examples(prompt())
    real, method = run_and_extract(module, inputs, 1)
    meta = trace_layers(module, inputs, 1)
    assert meta.tensors == "meta" and meta.method == method
    assert len(assignments(real)) == 1
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]


def test_a_number_assigned_writes_the_places_it_names():
    x = torch.randn(4, 6)
    layers, _ = extract_layers_from_example(Filled(), (), {"x": x})
    column, masked = assignments(layers)
    assert (column.flops, column.input_bytes, column.output_bytes) == (0, 0, 4 * 4)
    # a mask's True are not known on meta: at most every element, read from a mask of them all
    assert (masked.flops, masked.input_bytes, masked.output_bytes) == (0, x.numel(), x.numel() * 4)
    module, inputs = Filled(), from_examples(x)
    real, _ = run_and_extract(module, inputs, 1)
    assert [layer.facts() for layer in trace_layers(module, inputs, 1).layers] == [layer.facts() for layer in real]
