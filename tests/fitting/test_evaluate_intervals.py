"""evaluate scores the intervals predict shows, and notes what predict notes."""

import numpy as np
import pytest

from fakes.synthetic import fitted_predictor_path
from hwprof.fitting.evaluate import evaluate
from hwprof.predictor.predictor import Predictor, load_predictor


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return fitted_predictor_path(tmp_path_factory.mktemp("evaluate"), n_networks=10, network_noise=0.03)


def test_a_network_outside_the_training_data_is_scored_on_its_widened_interval_and_noted(files, monkeypatch):
    predictor_path, dataset = files
    predictor = load_predictor(predictor_path)
    report, inside = evaluate(predictor, [dataset])
    assert "outside the training data" not in report.get("note", "")
    novelty = Predictor.novelty

    def everything_outside(self, features):  # as predict finds a network far from every training network
        found = novelty(self, features)
        return found | {"outside": np.ones(len(features), dtype=bool)}

    monkeypatch.setattr(Predictor, "novelty", everything_outside)
    report, outside = evaluate(predictor, [dataset])
    networks = (outside["level"] == "network") & (outside["target"] == "latency_ms")
    assert (outside.loc[networks, "low"] <= inside.loc[networks, "low"]).all()
    assert (outside.loc[networks, "high"] >= inside.loc[networks, "high"]).all()
    assert (outside.loc[networks, "high"] > inside.loc[networks, "high"]).any()  # widened, as predict widens it
    assert f"{networks.sum()} of {networks.sum()} networks lie outside the training data" in report["note"]
    assert " batch 1" in report["note"] and ".0" not in report["note"].split("outside the training data")[1][:200]


def test_data_in_one_of_the_predictor_s_two_dtypes_is_no_transfer(tmp_path):
    from test_thread_and_dtype_mixes import with_runs

    from fakes.synthetic import synthetic_frame
    from hwprof.fitting.fit import fit

    frame = synthetic_frame(n_networks=6, seed=5)
    files = {
        dtype: with_runs(
            frame.assign(run_id=dtype),
            tmp_path / f"{dtype}.parquet",
            [{"run_id": dtype, "threads": 1, "execution": {"dtype": dtype}}],
        )
        for dtype in ("float32", "bfloat16")
    }
    predictor = fit([files["float32"]], cv=False, family="polynomial")
    assert "transfer between dtypes" in evaluate(predictor, [files["bfloat16"]])[0]["note"]
    both = fit(list(files.values()), cv=False, family="polynomial")
    # its own training data: in-sample, said so, and no other note
    assert evaluate(both, [files["bfloat16"]])[0]["note"].startswith(
        "every network scored was in the predictor's training data"
    )


def test_the_layer_total_is_not_mistaken_for_torch_all_s_row():
    import pandas as pd

    from hwprof.fitting.evaluate import _metrics

    points = pd.DataFrame(
        {
            "op": ["all", "linear", "linear"],
            "predicted": [1.0, 2.0, 3.0],
            "measured": [1.1, 2.1, 2.9],
            "low": [0.5, 1.0, 2.0],
            "high": [2.0, 3.0, 4.0],
        }
    )
    layers = _metrics(points, by="op")
    assert sorted(layers) == ["all", "linear", "total (all layers)"]
    assert layers["all"]["n"] == 1 and layers["total (all layers)"]["n"] == 3
