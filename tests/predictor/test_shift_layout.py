"""A channels-last network is a layout of its own: outside a predictor that never saw one, and predicted apart
by one that did."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import hwprof
from fakes.synthetic import NETWORK_FACTOR, fitted_predictor_path, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import indicator_names

CL_SPEEDUP = 0.6  # the planted law: a channels-last convolution takes 0.6 of its NCHW time


class TinyConvNet(nn.Module):
    """Two convolutions and a ReLU: every layer takes a 4-D input, so each is laid out channels-last."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.second = nn.Conv2d(32, 64, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.relu(self.first(x)))


def test_a_channels_last_layer_has_a_layout_indicator():
    assert "memory_format_channels_last" in indicator_names({"memory_format": "channels_last"})
    assert indicator_names({"dtype": "float16"}) == ["dtype_float16"]


def test_channels_last_lies_outside_a_predictor_fitted_on_contiguous_layers(tmp_path_factory):
    predictor = hwprof.load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("fit"))[0])
    plain = predictor.predict(TinyConvNet(), input_shape=(3, 32, 32))
    laid_out = predictor.predict(TinyConvNet(), input_shape=(3, 32, 32), channels_last=True)
    assert plain.novelty["uncovered_share"] == 0
    assert laid_out.novelty["outside"] and laid_out.novelty["uncovered_share"] == pytest.approx(1.0)
    assert "memory_format_channels_last never in training" in laid_out.novelty["uncovered_by"]
    assert any("memory_format_channels_last never in training" in w for w in laid_out.warnings)
    table = predictor.predict_many([TinyConvNet()], input_shape=(3, 32, 32), channels_last=True)
    assert bool(table["outside"].iloc[0]) and "memory_format_channels_last" in table["uncovered_by"].iloc[0]


def test_a_file_written_before_the_layout_indicator_counts_no_channels_last_layer_as_new(tmp_path_factory):
    """A predictor file from before the layout was an indicator may have been fitted on channels-last data:
    its layers' layout tells it nothing new (the network's own layout is still checked, by its runs)."""
    path = fitted_predictor_path(tmp_path_factory.mktemp("fit"))[0]
    document = json.loads(Path(path).read_text())
    del document["features"][predictor_file.SETTINGS_DEFINITION]
    old = type(hwprof.load_predictor(path))(document)
    laid_out = old.predict(TinyConvNet(), input_shape=(3, 32, 32), channels_last=True)
    assert "memory_format_channels_last" not in laid_out.novelty["uncovered_by"]
    assert laid_out.novelty["uncovered_share"] == 0


def channels_last_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """The networks of `frame` run channels-last: each 4-D layer's config says so, its convolutions take
    CL_SPEEDUP of their time, and each network the time its convolutions saved less."""
    copy = frame.copy()
    configs = [json.loads(config) for config in copy["config"]]
    four_d = np.array([len((config.get("input_shapes") or [[]])[0]) == 4 for config in configs])
    copy["config"] = [
        json.dumps({**config, "memory_format": "channels_last"} if is_4d else config, sort_keys=True)
        for config, is_4d in zip(configs, four_d)
    ]
    conv = four_d & (copy["op"] == "conv2d").to_numpy()
    saved = copy.loc[conv, "latency_ms"] * (1 - CL_SPEEDUP)
    copy.loc[conv, "latency_ms"] *= CL_SPEEDUP
    per_network = saved.groupby([copy.loc[conv, "model"], copy.loc[conv, "batch_size"]]).sum()
    networks = copy["kind"] == "network"
    keys = list(zip(copy.loc[networks, "model"], copy.loc[networks, "batch_size"]))
    copy.loc[networks, "latency_ms"] -= NETWORK_FACTOR * np.array([per_network.get(key, 0.0) for key in keys])
    for column in ("latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"):
        copy[column] = copy["latency_ms"] * {"latency_ms_ci_low": 0.99, "latency_ms_ci_high": 1.01}.get(column, 0.01)
    copy["model"] = copy["model"] + "@channels_last=1"
    return copy


def test_a_predictor_fitted_on_both_layouts_predicts_channels_last_apart(tmp_path):
    plain = synthetic_frame(n_networks=15, seed=5)
    dataset = write(pd.concat([plain, channels_last_copy(plain)], ignore_index=True), tmp_path / "both.parquet")
    predictor = fit([dataset], family="polynomial", cv=False)
    assert "config.memory_format_channels_last" in predictor.variables
    plain = predictor.predict(TinyConvNet(), input_shape=(3, 32, 32))
    laid_out = predictor.predict(TinyConvNet(), input_shape=(3, 32, 32), channels_last=True)
    assert "channels_last" not in laid_out.novelty["uncovered_by"]
    conv = plain.layers["op"] == "conv2d"
    ratio = laid_out.layers["latency_ms"][conv] / plain.layers["latency_ms"][conv]
    assert ratio.to_numpy() == pytest.approx([CL_SPEEDUP] * 2, rel=0.05)
    assert laid_out.total["latency_ms"] < 0.7 * plain.total["latency_ms"]
