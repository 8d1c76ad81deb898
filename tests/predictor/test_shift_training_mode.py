"""A setting of a key hwprof records only where it is set is new to a predictor whose training layers never held
that key: a batch norm left in training mode in an eval network ("training": true, batch statistics, 7-29x an eval
norm's work) was predicted as an eval norm with no note, since no training layer held "training" at all."""

import json

import pytest
from torch import nn
from torch.nn import functional

from fakes.synthetic import fitted_before, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import LayerRecord

EVAL_NORM = {"affine": True, "bias": True, "eps": 1e-05, "momentum": 0.1, "track_running_stats": True}


def norms_for_relus(frame):
    """`frame` with its ReLUs made eval-mode batch norms of their channels (four float32 numbers a channel)."""
    copy = frame.copy()
    relu = (copy["op"] == "relu").to_numpy()
    copy.loc[relu, "op"] = "batchnorm2d"
    channels = [json.loads(config)["input_shapes"][0][1] for config in copy.loc[relu, "config"]]
    copy.loc[relu, "config"] = [
        json.dumps({**json.loads(config), **EVAL_NORM, "num_features": count}, sort_keys=True)
        for config, count in zip(copy.loc[relu, "config"], channels)
    ]
    copy.loc[relu, "weight_bytes"] = [16 * count for count in channels]
    return copy


@pytest.fixture(scope="module")
def eval_norms(tmp_path_factory):
    path = tmp_path_factory.mktemp("norms") / "norms.parquet"
    return fit([write(norms_for_relus(synthetic_frame(n_networks=10, seed=5)), path)], family="polynomial", cv=False)


class ConvNorm(nn.Module):
    """A convolution and a batch norm, the norm called in training mode (batch statistics) or not, whatever the
    network's own mode."""

    def __init__(self, training: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(16)
        self.training_norm = training

    def forward(self, x):
        norm = self.norm
        statistics = (norm.running_mean, norm.running_var, norm.weight, norm.bias)
        return functional.batch_norm(self.conv(x), *statistics, training=self.training_norm)


def test_a_norm_left_in_training_mode_is_new_to_a_predictor_of_eval_norms(eval_norms):
    assert not any(variable.startswith("config.training") for variable in eval_norms.variables)
    evaluated = eval_norms.predict(ConvNorm(False), input_shape=(3, 32, 32))
    training = eval_norms.predict(ConvNorm(True), input_shape=(3, 32, 32))
    assert evaluated.novelty["uncovered_share"] == 0
    assert not any("settings" in warning for warning in evaluated.warnings)
    assert "training=true never in training" in training.novelty["uncovered_by"]
    assert training.novelty["uncovered_share"] > 0
    assert any(
        "its layers hold settings no training layer of the same op had (training=true in batchnorm2d)" in warning
        for warning in training.warnings
    )


def test_a_key_recorded_only_where_set_is_new_in_a_batch_too(eval_norms):
    """predict_many, search and evaluate read novelty from features: the same layer counts there."""
    shapes = {"input_shapes": [[1, 16, 32, 32]], "output_shape": [1, 16, 32, 32], "num_features": 16}
    records = [
        LayerRecord("batchnorm2d", json.dumps({**EVAL_NORM, **shapes, **extra}, sort_keys=True), 1e4, 6e4, 6e4, 256)
        for extra in ({}, {"training": True}, {"input_layouts": ["channels_last", None]})
    ]
    features = eval_norms.features_from_layers(["eval", "training", "layouts"], [1, 1, 1], [[r] for r in records])
    novelty = eval_norms.novelty(features)
    assert list(novelty["uncovered_share"]) == [0.0, 1.0, 1.0]
    assert "training=true never in training" in novelty["uncovered_by"][1]
    assert "input_layouts=channels_last never in training" in novelty["uncovered_by"][2]


def test_a_file_written_before_settings_were_indicators_still_counts_no_setting_as_new(eval_norms):
    training = fitted_before(eval_norms, predictor_file.SETTINGS_DEFINITION).predict(
        ConvNorm(True), input_shape=(3, 32, 32)
    )
    assert "training" not in training.novelty["uncovered_by"]
    assert not any("settings no training layer" in warning for warning in training.warnings)
