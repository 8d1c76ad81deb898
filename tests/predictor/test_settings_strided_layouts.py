"""A later input laid out by strides of its own (x + y.transpose(2, 3)) is an indicator, input_layouts=strided: its
strides entered the layer's config with none, so a transposed operand looked in order to the predictor, which
predicted it as one and counted it as trained where no training layer had one."""

import json

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import fitted_before, relus_as, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import LayerRecord, raw_variables

STRIDED_SLOWDOWN = 4.0  # the planted law: an add reading a transposed operand takes 4x the time of one in order


def config_part(config: dict) -> dict[str, float]:
    record = LayerRecord("add", json.dumps(config), 1.0, 1.0, 1.0, 0.0)
    return {name: value for name, value in raw_variables(record, config).items() if name.startswith("config.")}


def add_config(shape: list[int], strided: bool) -> dict:
    """An add of two tensors of `shape`, the second in order or with its last two dimensions transposed."""
    config = {"args": ["tensor", "tensor"], "kwargs": {}, "input_shapes": [shape, shape], "output_shape": shape}
    if strided:
        in_order = [int(np.prod(shape[i + 1 :])) for i in range(len(shape))]
        config["input_layouts"] = [None, [*in_order[:-2], in_order[-1], in_order[-2]]]
    return config


def adds_for_relus(frame: pd.DataFrame, strided: bool) -> pd.DataFrame:
    """`frame` with its ReLUs made adds of two operands, the second transposed (and the add STRIDED_SLOWDOWN times
    as slow, its network slower by the time its adds added) or in order, each model named apart."""
    return relus_as(
        frame,
        "add",
        lambda relu: add_config(relu["input_shapes"][0], strided),
        STRIDED_SLOWDOWN if strided else 1.0,
        "_strided" if strided else "_in_order",
    )


TRAINING = synthetic_frame(n_networks=10, seed=5)
SHAPE = json.loads(TRAINING.loc[TRAINING["op"] == "relu", "config"].iloc[0])["input_shapes"][0]


def one_add_networks(predictor):
    """Features of two networks of one add each at SHAPE, its second operand in order and transposed."""
    elements = float(np.prod(SHAPE))
    records = [
        LayerRecord(
            "add", json.dumps(add_config(SHAPE, strided), sort_keys=True), elements, 8 * elements, 4 * elements, 0
        )
        for strided in (False, True)
    ]
    return predictor.features_from_layers(["in_order", "strided"], [SHAPE[0]] * 2, [[record] for record in records])


@pytest.fixture(scope="module")
def in_order_only(tmp_path_factory):
    path = tmp_path_factory.mktemp("in_order") / "in_order.parquet"
    return fit([write(adds_for_relus(TRAINING, strided=False), path)], family="polynomial", cv=False)


def test_a_strided_later_input_is_one_indicator_whatever_its_strides():
    assert config_part({"input_layouts": [None, [64, 1, 8]]}) == {"config.input_layouts=strided": 1.0}
    assert config_part({"input_layouts": [None, [0, 0, 1, 16]]}) == {"config.input_layouts=strided": 1.0}
    assert config_part({"input_layouts": [None, "channels_last", [8, 1]]}) == {
        "config.input_layouts=channels_last": 1.0,
        "config.input_layouts=strided": 1.0,
    }


def test_a_predictor_fitted_on_both_layouts_predicts_them_apart(tmp_path):
    both = pd.concat([adds_for_relus(TRAINING, strided) for strided in (False, True)], ignore_index=True)
    predictor = fit([write(both, tmp_path / "both.parquet")], family="polynomial", cv=False)
    assert "config.input_layouts=strided" in predictor.variables
    in_order_ms, strided_ms = predictor.predict_features(one_add_networks(predictor))["latency_ms_layer_sum"]
    assert strided_ms / in_order_ms == pytest.approx(STRIDED_SLOWDOWN, rel=0.2)


def test_a_strided_input_is_new_to_a_predictor_of_adds_in_order(in_order_only):
    novelty = in_order_only.novelty(one_add_networks(in_order_only))
    assert list(novelty["uncovered_share"]) == [0.0, 1.0]
    assert "input_layouts=strided never in training" in novelty["uncovered_by"][1]


def test_a_file_fitted_before_the_indicator_reads_a_strided_input_as_it_did(in_order_only):
    old = fitted_before(in_order_only, predictor_file.STRIDED_LAYOUTS_DEFINITION)
    features = one_add_networks(old)
    assert list(old.novelty(features)["uncovered_share"]) == [0.0, 0.0]
    in_order_ms, strided_ms = old.predict_features(features)["latency_ms_layer_sum"]
    assert strided_ms == in_order_ms
