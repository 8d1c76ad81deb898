"""predict --json gives novelty's texts as null where there is nothing to name, not "" (which a script testing
`is not None` took for a cause or a setting the predictor has no data in); the Python API keeps "" in them, as
predict_many's text columns hold it."""

import json

import pytest
from click.testing import CliRunner

import hwprof
from fakes.synthetic import predictor_of_network_rows
from hwprof.cli import main


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    """A predictor of the networks mlp and mlp_large, which covers mlp at batch 1 entirely."""
    return predictor_of_network_rows(tmp_path_factory.mktemp("novelty"))


def novelty(predictor, *args):
    result = CliRunner().invoke(main, ["predict", str(predictor), "mlp", "--json", *args])
    assert result.exit_code == 0, result.output
    (prediction,) = json.loads(result.stdout)
    return prediction["novelty"]


def test_nothing_to_name_is_null(predictor):
    api = hwprof.load_predictor(predictor).predict("mlp").novelty
    assert api["uncovered_by"] == api["untrained_setting"] == ""
    found = novelty(predictor)
    assert found["uncovered_by"] is None and found["untrained_setting"] is None
    assert found["uncovered_share"] == 0.0 and found["outside"] is False  # the figures are kept as they were


def test_what_there_is_to_name_is_still_named(predictor):
    found = novelty(predictor, "--dtype", "float16")
    assert found["untrained_setting"] == "float16" and "dtype_float16 never in training" in found["uncovered_by"]
