"""evaluate says which networks have no interval (a dtype or layout the predictor has no data in) apart from those
whose interval it widened: coverage leaves the first out, and "widened" would be untrue of them."""

import json

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.fitting.evaluate import evaluate
from hwprof.predictor.predictor import Predictor, load_predictor


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    """A cross-validated predictor of float32 layers: its float32 networks have intervals."""
    return load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("fit"), n_networks=10)[0])


def in_float16(frame: pd.DataFrame) -> pd.DataFrame:
    """The same networks measured in float16, named apart (half_alpha_0) so that they are no reruns."""
    half = frame.assign(model="half_" + frame["model"])
    half["config"] = [
        config if config == "{}" else json.dumps({**json.loads(config), "dtype": "float16"}, sort_keys=True)
        for config in half["config"]
    ]
    return half


def test_networks_without_an_interval_are_named_apart_from_the_widened_ones(predictor, tmp_path, monkeypatch):
    single = synthetic_frame(n_networks=4, seed=9)
    dataset = write(pd.concat([single, in_float16(single)], ignore_index=True), tmp_path / "mixed.parquet")
    novelty = Predictor.novelty

    def everything_outside(self, features):  # as predict finds a network far from every training network
        return novelty(self, features) | {"outside": np.ones(len(features), dtype=bool)}

    monkeypatch.setattr(Predictor, "novelty", everything_outside)
    report, points = evaluate(predictor, [dataset])
    networks = points[(points["level"] == "network") & (points["target"] == "latency_ms")]
    half = networks["name"].str.startswith("half_")
    assert (networks.loc[half, "high"] == np.inf).all() and np.isfinite(networks.loc[~half, "high"]).all()
    widened, no_interval = report["note"].split("; 8 of 16 networks have no interval")
    assert widened.startswith("8 of 16 networks lie outside the training data (alpha_0 batch 1, 4;")
    assert "intervals are widened" in widened and "half_" not in widened
    assert no_interval.startswith(
        ", as in predict, since they ran in a dtype or layout the predictor has no data in "
        "(float16: half_alpha_0 batch 1, 4; half_beta_1 batch 1, 4; half_delta_3 batch 1, 4; 1 more): "
        "coverage leaves them out"
    )
    assert report["network"]["latency_ms"]["coverage"] is not None  # of the float32 networks alone
    assert list(networks.loc[half, "untrained_setting"].unique()) == ["float16"]


def test_data_all_in_an_untrained_dtype_is_never_said_to_be_widened(predictor, tmp_path):
    dataset = write(in_float16(synthetic_frame(n_networks=3, seed=9)), tmp_path / "half.parquet")
    report, _ = evaluate(predictor, [dataset])
    assert "widened" not in report["note"]
    assert report["note"].startswith("6 of 6 networks have no interval")
    assert report["network"]["latency_ms"]["coverage"] is None
