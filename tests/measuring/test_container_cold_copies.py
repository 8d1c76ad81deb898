"""Cold timing left no room for two copies of a layer still made two: vgg16's 411 MB Linear added 822 MB and a
1.5 GB container was OOM-killed without a word. Such a layer now runs on its own buffers, labelled cold_partial."""

import copy
import warnings

import pytest
import torch

from hwprof.errors import HwprofWarning, forget_shown_warnings
from hwprof.measuring import cache
from hwprof.measuring.cache import rotating_call
from hwprof.models.layers import LayerCall, TensorSpec

READS: list[int] = []  # the weight address each call of a _Recording layer read


class _Recording(torch.nn.Linear):
    def forward(self, x):
        READS.append(self.weight.data_ptr())
        return super().forward(x)


@pytest.mark.parametrize("max_copies", [0, 1])
def test_a_layer_with_no_room_for_two_copies_is_timed_on_its_own_buffers(monkeypatch, max_copies):
    deep_copies = []
    deepcopy = copy.deepcopy

    def counted(thing, *args, **kwargs):
        deep_copies.append(thing)
        return deepcopy(thing, *args, **kwargs)

    monkeypatch.setattr(cache.copy, "deepcopy", counted)
    forget_shown_warnings()
    linear = _Recording(64, 64)
    call = LayerCall(linear, (TensorSpec((8, 64), torch.float32),), {})
    layer_bytes = 8 * 64 * 4 * 2 + 64 * 65 * 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run, label, made = rotating_call(call, torch.device("cpu"), layer_bytes, 10 * layer_bytes, max_copies)
    READS.clear()
    run()
    run()
    assert deep_copies == [] and made == 0 and label == "cold_partial"
    assert READS == [linear.weight.data_ptr()] * 2  # the layer's own weights, every call
    said = [str(w.message) for w in caught if issubclass(w.category, HwprofWarning)]
    assert len(said) == 1 and "own buffers" in said[0] and "cold_partial" in said[0]


def test_a_layer_with_room_for_two_copies_still_rotates_through_them():
    linear = _Recording(64, 64)
    call = LayerCall(linear, (TensorSpec((8, 64), torch.float32),), {})
    layer_bytes = 8 * 64 * 4 * 2 + 64 * 65 * 4
    run, label, made = rotating_call(call, torch.device("cpu"), layer_bytes, 10 * layer_bytes, 2)
    READS.clear()
    run()
    run()
    assert (label, made) == ("cold_partial", 2) and len(set(READS)) == 2
