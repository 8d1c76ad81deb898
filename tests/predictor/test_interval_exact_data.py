"""An interval is never narrower than the resolution held-out residuals are kept at, and always holds its prediction
with that to spare: exact data leaves held-out errors of float round-off, whose zero-width intervals left out the
measurement one unit in the last place away (evaluate's coverage 0% at 0.0% error, fit's 90% coverage 33-86%)."""

import json

import numpy as np
import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor.intervals import MIN_HALF_WIDTH, held_out_coverage, log_bounds, widest_bounds

ROUND_OFF = np.array([0.0, 1.5e-15, -2.2e-16, 4.4e-16, -8.9e-16, 0.0, 1.1e-16, -4.4e-16, 2.2e-16, 0.0, 6.7e-16])


def test_round_off_residuals_give_an_interval_that_holds_them():
    for low, high, _ in (log_bounds(ROUND_OFF, 0.9), log_bounds(ROUND_OFF[:3], 0.9), widest_bounds(ROUND_OFF)):
        assert high - low >= 2 * MIN_HALF_WIDTH
        assert low < ROUND_OFF.min() and ROUND_OFF.max() < high
    assert held_out_coverage(ROUND_OFF, np.arange(len(ROUND_OFF)) % 3, 0.9) == 1.0


@pytest.fixture(scope="module")
def exact(tmp_path_factory):
    """A predictor whose held-out residuals were all 0.0 in the file (exact data, rounded to 6 decimals)."""
    directory = tmp_path_factory.mktemp("fit")
    doc = json.loads(open(fitted_predictor_path(directory, cv=False)[0]).read())
    doc["network_models"]["latency_ms"]["residuals_log"] = [0.0] * 20
    for models in doc["layer_models"].values():
        for model in [*models["ops"].values(), *models["groups"].values(), models["fallback"]]:
            model["residuals_log"] = [0.0] * 20
    path = directory / "exact.json"
    path.write_text(json.dumps(doc))
    return hwprof.load_predictor(path)


def test_an_exact_prediction_holds_a_measurement_a_round_off_away(exact):
    arrays = exact.predict_features(exact.features(["mlp", "mlp_large"], [1, 2]))
    predicted = arrays["latency_ms"]
    for measured in (predicted, predicted * (1 + 1e-12), predicted * (1 - 1e-12)):
        assert np.all((arrays["latency_ms_low"] <= measured) & (measured <= arrays["latency_ms_high"]))
    one = exact.predict("mlp")
    low, high = one.interval["latency_ms"]
    assert low < one.total["latency_ms"] < high
    assert (one.layers["latency_ms_low"] < one.layers["latency_ms"]).all()
    assert (one.layers["latency_ms"] < one.layers["latency_ms_high"]).all()


def test_a_constant_power_draw_is_covered_in_cross_validation(tmp_path):
    frame = synthetic_frame(n_networks=12, batch_sizes=(1,), seed=2, with_power=True)
    frame.loc[frame["kind"] == "network", "power_w"] = 12.0  # a capped board: the same draw for every network
    dataset = write(frame, tmp_path / "capped.parquet")
    fit([dataset], tmp_path / "p.json", family="polynomial")
    metrics = json.loads((tmp_path / "p.json").read_text())["cv"]["metrics"]["power_w"]
    assert metrics["mape"] < 1e-9
    assert metrics["coverage_90"] == 1.0
