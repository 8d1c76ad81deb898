"""nn.MultiheadAttention's settings reach the predictor: its masks are recorded only where a call has them, so a
mask no training layer held is new to the predictor (it was counted as trained where no training layer held any
mask); and one without biases ("bias": false, where a biased one has no bias key) has an indicator, bias=false, where
the two looked alike to the predictor, both a config.bias of 0."""

import json

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import fitted_before, relus_as, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import LayerRecord, raw_variables

TRAINING = synthetic_frame(n_networks=10, seed=5)
SHAPE = json.loads(TRAINING.loc[TRAINING["op"] == "relu", "config"].iloc[0])["input_shapes"][0]
# a biased nn.MultiheadAttention's config, as layers records one: no bias key (an unbiased one has "bias": false)
BIASED = {"add_zero_attn": False, "batch_first": True, "bias_k": None, "bias_v": None, "dropout": 0.0, "num_heads": 1}


def attention_config(shape: list[int], settings: dict) -> dict:
    """Self-attention over the tokens of a (batch, channels, height, width) tensor: a token per channel, embedded
    in height x width numbers."""
    tokens = [shape[0], shape[1], int(np.prod(shape[2:]))]
    embed = tokens[2]
    return {
        **BIASED,
        "embed_dim": embed,
        "head_dim": embed,
        "kdim": embed,
        "vdim": embed,
        "input_shapes": [tokens] * 3,
        "output_shape": tokens,
        "repeated_inputs": 2,
        **settings,
    }


def attention_record(settings: dict) -> LayerRecord:
    """An attention layer at SHAPE, counted as attention_frame's are (as the ReLUs they were)."""
    config = json.dumps(attention_config(SHAPE, settings), sort_keys=True)
    elements = float(np.prod(SHAPE))
    return LayerRecord("multiheadattention", config, elements, 4 * elements, 4 * elements, 0.0)


def one_attention_networks(predictor, settings: list[dict]):
    """Features of networks of one attention layer each at SHAPE, one per entry of `settings`."""
    names = [json.dumps(setting) for setting in settings]
    records = [[attention_record(setting)] for setting in settings]
    return predictor.features_from_layers(names, [SHAPE[0]] * len(settings), records)


def attention_frame(frame: pd.DataFrame, settings: dict, slowdown: float = 1.0) -> pd.DataFrame:
    """`frame` with its ReLUs made attention layers of these settings, `slowdown` times their time (their networks
    slower by the time added), each model named with the settings."""
    suffix = "_" + "_".join(f"{key}={value}" for key, value in settings.items())
    return relus_as(
        frame, "multiheadattention", lambda relu: attention_config(relu["input_shapes"][0], settings), slowdown, suffix
    )


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Fitted on attention layers with biases and without masks, beside the synthetic convolutions' "bias": false."""
    path = tmp_path_factory.mktemp("plain") / "plain.parquet"
    return fit([write(attention_frame(TRAINING, {}), path)], family="polynomial", cv=False)


ATTENTION_MASK = {"masks": {"attn_mask": "bool"}}
PADDING_MASK = {"masks": {"key_padding_mask": "bool"}}


def test_a_mask_is_new_to_a_predictor_whose_training_held_none(plain):
    assert not any(variable.startswith("config.masks") for variable in plain.variables)
    novelty = plain.novelty(one_attention_networks(plain, [{}, ATTENTION_MASK, PADDING_MASK]))
    assert list(novelty["uncovered_share"]) == [0.0, 1.0, 1.0]
    assert "masks.attn_mask=bool never in training" in novelty["uncovered_by"][1]
    assert "masks.key_padding_mask=bool never in training" in novelty["uncovered_by"][2]


def test_a_mask_the_training_held_is_no_news_and_another_is(tmp_path):
    frame = pd.concat([attention_frame(TRAINING, {}), attention_frame(TRAINING, ATTENTION_MASK)], ignore_index=True)
    predictor = fit([write(frame, tmp_path / "masked.parquet")], family="polynomial", cv=False)
    novelty = predictor.novelty(one_attention_networks(predictor, [{}, ATTENTION_MASK, PADDING_MASK]))
    assert list(novelty["uncovered_share"]) == [0.0, 0.0, 1.0]
    assert "masks.key_padding_mask=bool never in training" in novelty["uncovered_by"][2]


UNBIASED = {"bias": False}
UNBIASED_SLOWDOWN = 0.7  # the planted law: an attention without biases takes 0.7 of a biased one's time


def config_part(config: dict) -> dict[str, float]:
    record = LayerRecord("multiheadattention", json.dumps(config), 1.0, 1.0, 1.0, 0.0)
    return {name: value for name, value in raw_variables(record, config).items() if name.startswith("config.")}


def test_an_attention_without_biases_has_an_indicator_and_no_other_op_gains_one():
    unbiased = config_part(attention_config(SHAPE, UNBIASED))
    biased = config_part(attention_config(SHAPE, {}))
    assert unbiased["config.bias=false"] == 1.0 and unbiased["config.bias"] == 0.0
    assert not any(name.startswith("config.bias") for name in biased)
    assert set(unbiased) - set(biased) == {"config.bias", "config.bias=false"}
    convolution = json.loads(TRAINING.loc[TRAINING["op"] == "conv2d", "config"].iloc[0])
    assert convolution["bias"] is False and "config.bias=false" not in config_part(convolution)


def test_a_predictor_fitted_on_both_predicts_attention_with_and_without_biases_apart(tmp_path):
    frame = pd.concat(
        [attention_frame(TRAINING, {}), attention_frame(TRAINING, UNBIASED, UNBIASED_SLOWDOWN)], ignore_index=True
    )
    predictor = fit([write(frame, tmp_path / "both.parquet")], family="polynomial", cv=False)
    features = one_attention_networks(predictor, [{}, UNBIASED])
    biased_ms, unbiased_ms = predictor.predict_features(features)["latency_ms_layer_sum"]
    assert unbiased_ms / biased_ms == pytest.approx(UNBIASED_SLOWDOWN, rel=0.1)
    assert list(predictor.novelty(features)["uncovered_share"]) == [0.0, 0.0]


def test_an_attention_without_biases_is_new_to_a_predictor_of_biased_ones(plain):
    novelty = plain.novelty(one_attention_networks(plain, [{}, UNBIASED]))
    assert list(novelty["uncovered_share"]) == [0.0, 1.0]
    assert "bias=false never in training" in novelty["uncovered_by"][1]


def test_a_file_fitted_before_the_indicator_reads_an_attention_without_biases_as_it_did(plain):
    old = fitted_before(plain, predictor_file.ATTENTION_BIAS_DEFINITION)
    features = one_attention_networks(old, [{}, UNBIASED])
    assert list(old.novelty(features)["uncovered_share"]) == [0.0, 0.0]
    biased_ms, unbiased_ms = old.predict_features(features)["latency_ms_layer_sum"]
    assert unbiased_ms == biased_ms
