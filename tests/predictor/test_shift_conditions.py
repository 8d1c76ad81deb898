"""A prediction says what its figures are for: the board, thread count, dtype, layout and cache mode of the
predictor's training runs, above predict's table, in --json and in Prediction.to_dict."""

import json

import pytest
from click.testing import CliRunner

import hwprof
from fakes.synthetic import DEVICE, ONE_THREAD_COLD, predictor_of_network_rows, predictor_of_one_run
from hwprof.cli import main

CONDITIONS = ONE_THREAD_COLD


@pytest.fixture(scope="module")
def predictor_path(tmp_path_factory):
    """A predictor fitted on one run at 1 thread, float32, NCHW, layers timed cold."""
    return predictor_of_one_run(tmp_path_factory.mktemp("predictor_path"))


def test_a_prediction_and_its_dict_carry_the_training_conditions(predictor_path):
    predictor = hwprof.load_predictor(predictor_path)
    assert predictor.conditions == CONDITIONS
    prediction = predictor.predict("mlp")
    assert prediction.conditions == CONDITIONS
    assert json.loads(json.dumps(prediction.to_dict()))["conditions"] == CONDITIONS


def test_predict_says_the_conditions_above_its_table_and_in_json(predictor_path):
    result = CliRunner().invoke(main, ["predict", str(predictor_path), "mlp"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert (
        first
        == f"for {DEVICE} at 1 thread, float32, contiguous layout, layers timed cold (as its training data was measured)"
    )
    result = CliRunner().invoke(main, ["predict", str(predictor_path), "mlp", "--json"])
    assert json.loads(result.output)[0]["conditions"] == CONDITIONS


def test_a_predictor_of_network_rows_alone_says_what_its_data_did_not_record(tmp_path):
    nets = predictor_of_network_rows(tmp_path)
    result = CliRunner().invoke(main, ["predict", str(nets), "mlp"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "for unknown device (its training data recorded no thread count, dtype, layout or cache mode)"
    )


def test_damaged_provenance_in_a_predictor_file_leaves_its_conditions_empty(predictor_path):
    doc = json.loads(predictor_path.read_text())
    doc["training"]["sources"] = "text"
    conditions = hwprof.Predictor(doc).predict("mlp").conditions
    assert conditions["threads"] == conditions["dtypes"] == conditions["cache"] == []
