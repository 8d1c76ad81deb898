"""What fit says of its data agrees with what it did: counts, alignment warnings, refits and advice."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

from fakes.synthetic import DEVICE, fitted_predictor_path, synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting.advice import sweep_advice
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
    assert "its layers are scaled to that run's speed, its networks by their own, 1.50x" in warning
    # networks the reference never measured are kept as they were measured
    others = _slower(first, "others", 1.5)
    others.loc[others["kind"] == "network", "model"] += "_other"
    _, alignment = align_runs(pd.concat([first, others], ignore_index=True))
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


def test_a_refit_on_too_few_networks_keeps_the_bases_models_and_intervals_and_says_it_learnt_nothing(tmp_path):
    """A refit on two networks of the base's own board lost the base's intervals and replaced its network
    correction, learnt from its many networks, by the plain layer sum, while saying it had learnt from them."""
    base_path, _ = fitted_predictor_path(tmp_path, seed=71)
    base = load_predictor(base_path)
    assert base.doc["network_models"]["latency_ms"]["cv"]["columns"]  # a correction, not the layer sum
    two = synthetic_frame(n_networks=2, batch_sizes=(1,), seed=72)
    dataset = write(two, tmp_path / "verified.parquet")
    result = CliRunner().invoke(main, ["fit", dataset, "--base", base_path, "--out", str(tmp_path / "refit.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "nothing learnt from the 2 network(s) (too few networks to choose a correction): the base's network models "
        "are kept"
    ) in said
    assert "the intervals of latency_ms are the base predictor's" in said
    refit = load_predictor(tmp_path / "refit.json")
    assert refit.doc["network_models"] == base.doc["network_models"]
    arrays = refit.predict_features(refit.features_from_batch(training_data(two, DEVICE).networks))
    assert np.isfinite(arrays["latency_ms_low"]).all() and np.isfinite(arrays["latency_ms_high"]).all()


def test_the_bases_kept_network_models_are_the_ones_cross_validated(tmp_path):
    """With enough networks to hold families out but too few to choose a correction, the folds refitted the plain
    layer sum while the predictor kept the base's models: its intervals were another model's errors."""
    from hwprof.fitting.fit import fit

    base_path, _ = fitted_predictor_path(tmp_path, seed=71)
    base = load_predictor(base_path)
    four = synthetic_frame(n_networks=4, batch_sizes=(1,), seed=74)
    refit = fit([write(four, tmp_path / "four.parquet")], base=base_path)
    assert refit.doc["training"]["network_refit"]["base_network_models_kept"] == ["latency_ms"]
    assert refit.doc["cv"]["scheme"] != "none"  # held out family by family
    data = training_data(four, DEVICE)
    predicted = base.predict_features(base.features_from_batch(data.networks), intervals=False)["latency_ms"]
    errors = np.sort(np.log(data.targets["latency_ms"] / predicted))
    assert refit.doc["network_models"]["latency_ms"]["residuals_log"] == [round(float(e), 6) for e in errors]


def test_a_tables_family_advice_measures_on_its_own_board_not_here(tmp_path):
    from hwprof.fitting.fit import fit

    table = tmp_path / "few.csv"
    table.write_text("model,batch_size,latency_ms\nresnet18,1,30\nmlp,1,0.2\n")
    (note,) = fit([table], cv=False).doc["training"]["warnings"]
    assert "measure networks of at least 3 families on the board these rows were measured on" in note
    assert "giving this table a device_name column with the name that run records" in note


def _with_relu_sweep(name, count, spread, run_id="sweep"):
    """A synthetic dataset (its own run) and a relu sweep of `count` configurations in another run, its sizes
    `spread` times the networks' smallest and largest."""
    networks = synthetic_frame(n_networks=6, seed=73).assign(run_id="networks")
    relu = networks[networks["op"] == "relu"]
    scales = np.geomspace(1 / spread, spread, count) * relu["flops"].median()
    sweep = pd.concat([relu.head(1)] * count, ignore_index=True)
    sweep = sweep.assign(
        model=name,
        run_id=run_id,
        config=[f'{{"sweep":{k}}}' for k in range(count)],
        flops=scales,
        output_bytes=4 * scales,
        input_bytes=4 * scales,
        latency_ms=scales * 1e-5,
    )
    frame = pd.concat([networks, sweep], ignore_index=True)
    return frame, training_data(frame, DEVICE)


LEFT_OUT = {"layer_models": {"latency_ms": {"ops": {"relu": {"cv": {"family": "polynomial without sweeps"}}}}}}


def test_a_sweep_that_spans_the_networks_sizes_is_not_advised_larger_but_measured_with_them():
    frame, data = _with_relu_sweep("sweep:relu", 40, spread=1000)
    (note,) = sweep_advice(LEFT_OUT, data, frame, " --threads 1")
    assert "already holds 40 sweep configurations of relu, spanning its networks' layer sizes" in note
    assert "measured in other runs than the networks' layers, which fit could not bring to one speed" in note
    networks = " ".join(pd.unique(frame.loc[frame["kind"] == "network", "model"]))
    assert f"`hwprof measure {networks} sweep:relu:40:0 --threads 1 --out networks_and_sweep.parquet`" in note


def test_a_small_sweep_is_advised_more_configurations_than_it_has_drawn_with_a_new_seed():
    frame, data = _with_relu_sweep("sweep:relu:30", 30, spread=0.5)  # none beyond the networks' sizes
    (note,) = sweep_advice(LEFT_OUT, data, frame)
    assert "the data holds 30 sweep configuration(s) of relu, not spanning the sizes of its networks' layers" in note
    assert (
        "a sweep of 30 more, drawn anew (`hwprof measure sweep:relu:30:1 --out larger_sweeps.parquet`) to span" in note
    )


def test_a_model_fitted_without_the_sweeps_counts_the_configurations_it_was_fitted_on():
    from fakes.synthetic import conv_configs
    from hwprof.fitting.layers import WITHOUT_SWEEPS, fit_op_model

    variables, z, y, groups = conv_configs(synthetic_frame(n_networks=12, seed=9, layer_noise=0.05))
    sweeps = np.arange(len(y)) % 3 == 0
    misleading = np.where(sweeps, y + np.log(8.0), y)
    model, _ = fit_op_model(
        z,
        misleading,
        np.where(sweeps, "sweep", groups),
        variables,
        list(range(len(variables))),
        "polynomial",
        always_train=sweeps,
        sweeps_optional=True,
    )
    assert model.cv["family"] == f"polynomial{WITHOUT_SWEEPS}" and model.cv["rows"] == int((~sweeps).sum())
