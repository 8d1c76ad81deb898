"""A Prediction as plain values, a predictor's repr, a flag that is not a bool, and a network-rows predictor's
coverage of an execution setting its training never had."""

import dataclasses
import json

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit

ROWS = "mlp,1,1.0\nmlp,2,1.5\nmlp,4,2.4\nmlp_large,1,3.0\nmlp_large,2,5.0\nmlp_large,4,9.0\n"


@pytest.fixture(scope="module")
def network_rows(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rows")
    (directory / "nets.csv").write_text(f"model,batch_size,latency_ms\n{ROWS}")
    return fit([directory / "nets.csv"], out=directory / "nets.json", cv=False)


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    return hwprof.load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)[0])


def test_a_prediction_is_plain_values_as_predict_json_prints_it(layers):
    prediction = layers.predict("mlp")
    values = prediction.to_dict()
    assert json.loads(json.dumps(values)) == values
    assert len(values["layers"]) == len(prediction.layers) and values["total"] == prediction.total
    assert set(values) == {f.name for f in dataclasses.fields(prediction)}


def test_predictions_compare_by_identity_not_by_their_layer_tables(layers):
    first, second = layers.predict("mlp"), layers.predict("mlp")
    assert first == first and first != second


def test_intervals_must_be_a_bool(layers):
    features = layers.features(["mlp"])
    with pytest.raises(HwprofError, match="intervals='no': give True or False"):
        layers.predict_features(features, intervals="no")
    assert "latency_ms_low" not in layers.predict_features(features, intervals=False)


def test_repr_names_the_file_targets_device_and_mode(layers, network_rows):
    assert repr(layers).startswith(f"<Predictor {layers.source}: latency_ms") and "layer models" in repr(layers)
    assert repr(network_rows).endswith("network rows only>") and network_rows.source.endswith("nets.json")


def test_a_dtype_no_training_network_ran_in_is_outside_a_network_rows_predictor(network_rows):
    plain = network_rows.predict("mlp")
    half = network_rows.predict("mlp", dtype="bfloat16")
    assert not plain.novelty["outside"] and plain.novelty["uncovered_share"] == 0
    assert half.novelty["outside"] and half.novelty["uncovered_share"] == pytest.approx(1.0)
    assert half.novelty["uncovered_by"] == "dtype_bfloat16 never in training"
    assert any("dtype_bfloat16 never in training" in w for w in half.warnings)
