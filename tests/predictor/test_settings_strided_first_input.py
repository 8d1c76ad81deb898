"""A strided first input is recorded only where it is set (input_strides): a predictor whose training layers never
held one counted a transposed input as trained, since the elements it reads in order were a variable that predictor
never had, and so was read as nothing."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from fakes.synthetic import fitted_before, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import LayerRecord

TRAINING = synthetic_frame(n_networks=10, seed=5)
SHAPE = json.loads(TRAINING.loc[TRAINING["op"] == "relu", "config"].iloc[0])["input_shapes"][0]


def transposed(shape: list[int]) -> list[int]:
    """The strides of a tensor of `shape` whose last two dimensions are transposed."""
    in_order = [int(np.prod(shape[i + 1 :])) for i in range(len(shape))]
    return [*in_order[:-2], in_order[-1], in_order[-2]]


def relu_record(shape: list[int], strided: bool) -> LayerRecord:
    config = {"input_shapes": [shape], "output_shape": shape}
    if strided:
        config["input_strides"] = transposed(shape)
    elements = float(np.prod(shape))
    return LayerRecord("relu", json.dumps(config, sort_keys=True), elements, 4 * elements, 4 * elements, 0.0)


def one_relu_networks(predictor):
    """Features of two networks of one ReLU each at SHAPE, its input in order and transposed."""
    records = [relu_record(SHAPE, strided) for strided in (False, True)]
    return predictor.features_from_layers(["in_order", "strided"], [SHAPE[0]] * 2, [[record] for record in records])


def with_strided_relus(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` beside a copy of it whose ReLUs read transposed inputs, each model named apart."""
    copy = frame.copy()
    relu = (copy["op"] == "relu").to_numpy()
    copy.loc[relu, "config"] = [
        relu_record(json.loads(c)["input_shapes"][0], True).config for c in copy.loc[relu, "config"]
    ]
    copy["model"] = copy["model"] + "_strided"
    return pd.concat([frame, copy], ignore_index=True)


@pytest.fixture(scope="module")
def in_order_only(tmp_path_factory):
    return fit(
        [write(TRAINING, tmp_path_factory.mktemp("in_order") / "in_order.parquet")], family="polynomial", cv=False
    )


class ConvTransposedRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x).transpose(2, 3))


def test_a_strided_first_input_is_new_to_a_predictor_whose_training_held_none(in_order_only):
    assert not any(variable.startswith("config.input_run") for variable in in_order_only.variables)
    novelty = in_order_only.novelty(one_relu_networks(in_order_only))
    assert list(novelty["uncovered_share"]) == [0.0, 1.0]
    assert "input_strides=strided never in training" in novelty["uncovered_by"][1]
    prediction = in_order_only.predict(ConvTransposedRelu(), input_shape=(3, 32, 32))
    assert "input_strides=strided never in training" in prediction.novelty["uncovered_by"]
    assert any("(input_strides=strided in relu)" in warning for warning in prediction.warnings)


def test_a_strided_first_input_the_training_held_is_no_news(tmp_path):
    predictor = fit([write(with_strided_relus(TRAINING), tmp_path / "both.parquet")], family="polynomial", cv=False)
    assert "config.input_run_elements" in predictor.variables
    novelty = predictor.novelty(one_relu_networks(predictor))
    assert list(novelty["uncovered_share"]) == [0.0, 0.0]


def test_a_file_fitted_before_any_op_recorded_strides_reads_a_strided_input_as_it_did(in_order_only):
    """Its training could not have recorded one (only copies had input_strides then), so its own networks measured
    again must not read as holding settings never in training."""
    old = fitted_before(in_order_only, predictor_file.STRIDED_INPUTS_DEFINITION)
    assert list(old.novelty(one_relu_networks(old))["uncovered_share"]) == [0.0, 0.0]
