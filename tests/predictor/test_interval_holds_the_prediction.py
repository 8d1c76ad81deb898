"""An interval always holds its prediction: low <= predicted <= high, even at a low confidence where held-out
errors that lean one way would place the whole interval to one side of it."""

import json

import numpy as np
import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path

LEANING = [round(0.1 + 0.01 * k, 6) for k in range(30)]  # every held-out network ran slower than predicted


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fit")
    doc = json.loads(open(fitted_predictor_path(directory, cv=False)[0]).read())
    doc["network_models"]["latency_ms"]["residuals_log"] = LEANING
    for models in doc["layer_models"].values():
        for model in [*models["ops"].values(), *models["groups"].values(), models["fallback"]]:
            model["residuals_log"] = [-r for r in LEANING]
    path = directory / "leaning.json"
    path.write_text(json.dumps(doc))
    return hwprof.load_predictor(path)


@pytest.mark.parametrize("confidence", [0.05, 0.2, 0.5])
def test_the_interval_holds_the_prediction_at_any_confidence(predictor, confidence):
    one = predictor.predict("mlp", batch_size=2, confidence=confidence)
    low, high = one.interval["latency_ms"]
    assert low <= one.total["latency_ms"] <= high
    layers = one.layers
    assert (layers["latency_ms_low"] <= layers["latency_ms"]).all()
    assert (layers["latency_ms"] <= layers["latency_ms_high"]).all()

    table = predictor.predict_many(["mlp", "mlp_large", "resnet18"], [1, 2, 4], confidence=confidence)
    assert (table["latency_ms_low"] <= table["latency_ms"]).all() and (
        table["latency_ms"] <= table["latency_ms_high"]
    ).all()
    arrays = predictor.predict_features(predictor.features(["mlp", "mlp_large"]), confidence=confidence)
    assert np.all(arrays["latency_ms_low"] <= arrays["latency_ms"])
    assert np.all(arrays["latency_ms"] <= arrays["latency_ms_high"])
