"""What fit says of its data agrees with what it did: counts, alignment warnings, refits and advice."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

from fakes.synthetic import DEVICE, fitted_predictor_path, synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting.alignment import align_runs
from hwprof.fitting.data import training_data
from hwprof.predictor.predictor import load_predictor


def _slower(frame, run_id, factor):
    return frame.assign(
        run_id=run_id, **{c: frame[c] * factor for c in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high")}
    )


def test_a_slow_sweep_runs_warning_speaks_of_networks_only_where_it_has_them():
    first = synthetic_frame(n_networks=12, seed=70).assign(run_id="first")
    layers = first[first["kind"] == "layer"].assign(model="sweep:conv2d")
    _, alignment = align_runs(pd.concat([first, _slower(layers, "sweep", 1.5)], ignore_index=True))
    (warning,) = alignment.warnings()
    assert warning.startswith("run sweep (sweep:conv2d)") and "networks" not in warning
    assert "measure sweep:conv2d again" in warning
    _, alignment = align_runs(pd.concat([first, _slower(first, "again", 1.5)], ignore_index=True))
    (warning,) = alignment.warnings()
    assert "its networks are kept as measured" in warning


def test_the_summary_and_the_validation_count_networks_alike(tmp_path):
    table = tmp_path / "two_same.csv"
    table.write_text("model,batch_size,latency_ms\nresnet18,1,20.5\nresnet18,8,90.5\n")
    result = CliRunner().invoke(main, ["fit", str(table), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "predictor for unknown device from 1 network(s) (2 rows) and 0 unique layer configurations" in said
    assert "only 1 network(s) (2 rows): too few to cross-validate" in said


def test_a_refit_on_too_few_networks_keeps_the_bases_intervals_and_says_it_learnt_nothing(tmp_path):
    base_path, _ = fitted_predictor_path(tmp_path, seed=71)
    two = synthetic_frame(n_networks=2, batch_sizes=(1,), seed=72)
    dataset = write(two, tmp_path / "verified.parquet")
    result = CliRunner().invoke(main, ["fit", dataset, "--base", base_path, "--out", str(tmp_path / "refit.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "nothing learnt from the 2 network(s): the network model is the layer sum as it is" in said
    assert "the intervals of latency_ms are the base predictor's" in said
    base, refit = load_predictor(base_path), load_predictor(tmp_path / "refit.json")
    kept = refit.doc["network_models"]["latency_ms"]["residuals_log"]
    assert kept and kept == base.doc["network_models"]["latency_ms"]["residuals_log"]
    arrays = refit.predict_features(refit.features_from_batch(training_data(two, DEVICE).networks))
    assert np.isfinite(arrays["latency_ms_low"]).all() and np.isfinite(arrays["latency_ms_high"]).all()


def test_a_tables_family_advice_measures_on_its_own_board_not_here(tmp_path):
    from hwprof.fitting.fit import fit

    table = tmp_path / "few.csv"
    table.write_text("model,batch_size,latency_ms\nresnet18,1,30\nmlp,1,0.2\n")
    (note,) = fit([table], cv=False).doc["training"]["warnings"]
    assert "measure networks of at least 3 families on the board these rows were measured on" in note
    assert "giving this table a device_name column with the name that run records" in note
