"""A model laid out channels-last by its user, fed an NHWC example (PyTorch's NHWC recipe), was timed on an NCHW
input drawn anew, and every row said channels_last false. The example's layout is now kept, and the rows say
what ran."""

import json

import torch
import torch.nn as nn

import hwprof
from fakes.progress import Notes
from hwprof.models.inputs import from_examples
from hwprof.models.tracing import trace_layers

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}
NHWC = torch.channels_last


def cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 2))


def first_conv_config(frame) -> dict:
    return json.loads(frame[frame["layer_name"] == "0"]["config"].iloc[0])


def test_an_nhwc_example_is_drawn_nhwc_at_any_batch_size():
    inputs = from_examples(torch.randn(1, 3, 8, 8).contiguous(memory_format=NHWC))
    (drawn,), _ = inputs.make(4)
    assert drawn.shape == (4, 3, 8, 8) and drawn.is_contiguous(memory_format=NHWC) and not drawn.is_contiguous()
    (plain,), _ = from_examples(torch.randn(1, 3, 8, 8)).make(4)
    assert plain.is_contiguous()


def test_a_model_laid_out_channels_last_by_its_user_runs_and_is_recorded_so():
    net = cnn().to(memory_format=NHWC)
    notes = Notes()
    example = torch.randn(1, 3, 8, 8).contiguous(memory_format=NHWC)
    frame = hwprof.measure([(net, example)], progress=notes, **FAST)
    assert first_conv_config(frame).get("memory_format") == "channels_last"  # fed NHWC, as its user feeds it
    assert frame["channels_last"].all()
    assert sum("laid out channels-last (NHWC) already" in note for note in notes.notes) == 1


def test_a_model_with_nhwc_weights_alone_is_recorded_as_channels_last_and_one_without_is_not():
    example = torch.randn(1, 3, 8, 8)
    for net, nhwc in ((cnn().to(memory_format=NHWC), True), (cnn(), False)):
        notes = Notes()
        frame = hwprof.measure([(net, example)], layers=False, progress=notes, **FAST)
        assert frame["channels_last"].all() == nhwc and frame["channels_last"].any() == nhwc
        assert sum("laid out channels-last (NHWC) already" in note for note in notes.notes) == nhwc


def test_predict_traces_an_nhwc_example_nhwc():
    net = cnn().to(memory_format=NHWC)
    inputs = from_examples(torch.randn(1, 3, 8, 8).contiguous(memory_format=NHWC))
    trace = trace_layers(net, inputs)
    assert trace.tensors == "meta" and trace.layers[0].config.get("memory_format") == "channels_last"
