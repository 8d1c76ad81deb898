"""A BatchNorm or Dropout left in training mode in an eval network (MC dropout, test-time batch statistics) was
measured and predicted in eval mode without a word, while the module itself computes otherwise."""

import warnings

import pytest
import torch
import torch.nn as nn

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.models.layers import extract_layers_from_example

NAMED = r"modules 1 \(BatchNorm1d\), 2 \(Dropout\) were left in training mode.*in eval mode"


def network(left_in_training: bool) -> nn.Module:
    model = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 4))
    if left_in_training:
        model.eval()
        model[1].train()
        model[2].train()
    return model


def test_norms_and_dropouts_left_in_training_are_named_when_measured_in_eval():
    model = network(left_in_training=True)
    with pytest.warns(HwprofWarning, match=NAMED):
        layers, _ = extract_layers_from_example(model, (torch.randn(4, 8),), {})
    assert not any("training" in layer.config for layer in layers)  # as recorded before: eval mode's work


def test_a_whole_network_in_training_mode_is_put_in_eval_without_a_word():
    with warnings.catch_warnings():
        warnings.simplefilter("error", HwprofWarning)
        extract_layers_from_example(network(left_in_training=False), (torch.randn(4, 8),), {})


def test_predict_names_them_and_leaves_their_modes(tmp_path):
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
    model = network(left_in_training=True)
    with pytest.warns(HwprofWarning, match=NAMED):
        hwprof.load_predictor(path).predict((model, torch.randn(4, 8)), batch_size=4)
    assert [part.training for part in model] == [False, True, True, False]


def test_measure_names_them_and_leaves_their_modes():
    model = network(left_in_training=True)
    fast = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "sweep_share": 0}
    with pytest.warns(HwprofWarning, match=NAMED):
        frame = hwprof.measure([(model, torch.randn(4, 8))], batch_sizes=[4], layers=False, **fast)
    assert len(frame) == 1 and [part.training for part in model] == [False, True, True, False]
