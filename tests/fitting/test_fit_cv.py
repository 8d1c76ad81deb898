"""Leave-one-family-out validation, calibrated intervals, and fitting from network rows alone."""

import random

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import DEVICE, FAMILIES, synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit
from hwprof.fitting.layers import make_folds
from hwprof.predictor.intervals import held_out_coverage, log_bounds
from hwprof.progress import Notes


def test_folds_hold_out_whole_families():
    groups = np.array(["a", "b", "a", "c", "b", "d"])
    folds = make_folds(groups)
    assert folds.scheme == "leave-one-family-out"
    assert len(folds.splits) == 4
    for train, test in folds.splits:
        assert len(set(groups[test])) == 1
        assert set(groups[test]).isdisjoint(groups[train])
    few = make_folds(np.array(["a"] * 7 + ["b"] * 3))
    assert few.scheme.startswith("5-fold over rows (2 families)")


def test_sweep_rows_are_in_every_training_fold_and_never_scored():
    groups = np.array(["a", "a", "b", "b", "c", "c", "sweep", "sweep", "sweep"])
    sweeps = groups == "sweep"
    folds = make_folds(groups, always_train=sweeps)
    assert folds.scheme == "leave-one-family-out, sweeps always in training" and len(folds.splits) == 3
    for train, test in folds.splits:
        assert set(np.flatnonzero(sweeps)) <= set(train) and not sweeps[test].any()
    assert list(folds.scored) == list(np.flatnonzero(~sweeps))
    # with fewer than 3 families to hold out, sweep rows are split like any other
    few = make_folds(np.array(["a"] * 6 + ["sweep"] * 6), always_train=np.array([False] * 6 + [True] * 6))
    assert few.scheme.startswith("5-fold over rows") and len(few.scored) == 12


def test_layer_models_are_scored_on_held_out_families_only():
    from fakes.synthetic import conv_configs
    from hwprof.fitting.layers import fit_op_model

    variables, z, y, groups = conv_configs(synthetic_frame(n_networks=12, seed=9, layer_noise=0.05))
    sweeps = np.arange(len(y)) % 3 == 0  # a third of the rows stand in for a sweep
    groups = np.where(sweeps, "sweep", groups)
    model, oof = fit_op_model(z, y, groups, variables, list(range(len(variables))), "polynomial", always_train=sweeps)
    assert np.isnan(oof[sweeps]).all() and np.isfinite(oof[~sweeps]).all()
    assert model.cv["scored_rows"] == int((~sweeps).sum()) == len(model.residuals)
    assert model.cv["scheme"].endswith("sweeps always in training")


@pytest.mark.slow
def test_fit_reports_leave_one_family_out_metrics(tmp_path):
    dataset = write(
        synthetic_frame(n_networks=15, seed=8, layer_noise=0.03, network_noise=0.03), tmp_path / "d.parquet"
    )
    predictor = fit([dataset], family="polynomial")
    cv = predictor.doc["cv"]
    assert cv["scheme"] == "leave-one-family-out" and cv["folds"] == len(FAMILIES)
    latency = cv["metrics"]["latency_ms"]
    assert set(latency["per_family"]) == set(FAMILIES)
    assert latency["n"] == 30
    assert latency["mape"] < 0.1 and latency["spearman"] > 0.95
    # the layer-sum baseline is scored on the same folds, and the network model improves on it
    assert cv["metrics"]["latency_ms_layer_sum"]["mape"] > latency["mape"]
    assert len(predictor.doc["network_models"]["latency_ms"]["residuals_log"]) == 30


@pytest.mark.slow
def test_intervals_cover_fresh_data_near_nominal(tmp_path):
    from hwprof.fitting.evaluate import evaluate

    noise = dict(layer_noise=0.05, network_noise=0.1)
    train = write(synthetic_frame(n_networks=40, seed=11, **noise), tmp_path / "train.parquet")
    test = write(synthetic_frame(n_networks=40, seed=12, **noise), tmp_path / "test.parquet")
    predictor = fit([train], family="polynomial")
    report, _ = evaluate(predictor, [test], confidence=0.9)
    coverage = report["network"]["latency_ms"]["coverage"]
    assert 0.8 <= coverage <= 0.98
    assert 0.8 <= predictor.doc["cv"]["metrics"]["latency_ms"]["coverage_90"] <= 0.98
    loose, _ = evaluate(predictor, [test], confidence=0.5)
    assert loose["network"]["latency_ms"]["coverage"] < coverage


def test_conformal_bounds_and_small_sample_fallback():
    rng = np.random.default_rng(0)
    residuals = rng.normal(0, 0.1, 2000)
    low, high, method = log_bounds(residuals, 0.9)
    assert method == "conformal"
    assert low == pytest.approx(-0.1645, abs=0.015) and high == pytest.approx(0.1645, abs=0.015)
    assert log_bounds(residuals[:5], 0.9)[2].startswith("student-t")
    assert log_bounds(np.zeros(0), 0.9)[:2] == (-np.inf, np.inf)
    folds = np.arange(2000) % 10
    assert held_out_coverage(residuals, folds, 0.9) == pytest.approx(0.9, abs=0.02)


def _nb201_truth(archs):
    """A made-up board: per-layer launch cost, MAC and byte rates that differ by op group."""
    from hwprof.predictor.features import aggregate_row
    from hwprof.predictor.records import network_layers

    rates = {
        "conv": (0.02, 40.0, 0.002),
        "norm": (0.015, 0.0, 0.004),
        "activation": (0.01, 0.0, 0.003),
        "pool": (0.02, 5.0, 0.006),
        "elementwise": (0.012, 0.0, 0.003),
    }
    from hwprof.predictor.features import OP_GROUPS

    latency = []
    for arch in archs:
        records = network_layers(f"nb201:{arch}", 1).records
        row = aggregate_row(records).reshape(len(OP_GROUPS), -1)[:, :3]  # count, GMAC, MB
        total = 0.3 + sum(np.dot(row[i], rates.get(group, (0.01, 1.0, 0.002))) for i, group in enumerate(OP_GROUPS))
        latency.append(total)
    return np.array(latency)


@pytest.mark.slow
def test_ten_networks_alone_rank_the_rest(tmp_path):
    from scipy.stats import spearmanr

    from hwprof.sample_models.nb201 import random_arch

    rng = random.Random(3)
    archs = list(dict.fromkeys(random_arch(rng) for _ in range(40)))[:18]
    truth = _nb201_truth(archs) * np.exp(np.random.default_rng(0).normal(0, 0.02, len(archs)))
    table = tmp_path / "other_tool.csv"
    pd.DataFrame({"model": [f"nb201:{a}" for a in archs[:10]], "batch_size": 1, "latency_ms": truth[:10]}).to_csv(
        table, index=False
    )
    predictor = fit([table])
    assert predictor.doc["mode"] == "analytic" and predictor.doc["training"]["rows"]["networks"] == 10
    assert predictor.doc["cv"]["scheme"].startswith("5-fold over networks (1 family)")
    predicted = predictor.predict_many([f"nb201:{a}" for a in archs[10:]])["latency_ms"].to_numpy()
    assert spearmanr(predicted, truth[10:]).statistic > 0.9
    prediction = predictor.predict(f"nb201:{archs[12]}")
    # without layer models, per-layer figures are the additive network model's terms
    assert set(prediction.layers["model"]) == {"network-additive"}
    assert prediction.interval["latency_ms"][0] < prediction.total["latency_ms"] < prediction.interval["latency_ms"][1]


def test_network_only_rows_mix_with_layer_datasets(tmp_path):
    layered = write(synthetic_frame(n_networks=10, seed=21), tmp_path / "layered.parquet")
    table = tmp_path / "extra.csv"
    pd.DataFrame(
        {"model": ["mlp", "mlp_large"], "batch_size": [1, 1], "latency_ms": [0.2, 0.6], "device_name": [DEVICE, DEVICE]}
    ).to_csv(table, index=False)
    predictor = fit([layered, table], family="polynomial", cv=False)
    assert predictor.doc["training"]["rows"]["networks"] == 22
    assert predictor.doc["mode"] == "layers"


def test_repeated_measurements_combine_by_precision():
    from hwprof.fitting.data import training_data

    frame = synthetic_frame(n_networks=3, seed=30)
    noisy = frame.copy()
    noisy["latency_ms"] *= 3.0  # a run disturbed by other work: slow and imprecise
    noisy["latency_ms_ci_low"] = noisy["latency_ms"] * 0.5
    noisy["latency_ms_ci_high"] = noisy["latency_ms"] * 1.5
    noisy["run_id"] = "disturbed"
    clean = training_data(frame, DEVICE)
    both = training_data(pd.concat([frame, noisy], ignore_index=True), DEVICE)
    assert np.allclose(both.targets["latency_ms"], clean.targets["latency_ms"], rtol=0.01)
    merged = both.layers.set_index(["op", "config"])["latency_ms"]
    alone = clean.layers.set_index(["op", "config"])["latency_ms"]
    assert np.allclose(merged.loc[alone.index], alone, rtol=0.01)
    assert len(both.layers) == len(clean.layers)


def test_three_runs_or_more_take_the_median_so_one_slow_run_cannot_move_it():
    from hwprof.fitting.data import combine_runs, training_data

    # one run slow throughout, yet precise within itself: no interval shows it
    latency, relative_ci = combine_runs(np.array([1.0, 1.04, 2.0]), np.array([0.01, 0.01, 0.01]))
    assert latency == pytest.approx(1.04)
    assert relative_ci == pytest.approx(np.log(1.04))  # the spread between runs, larger than within them
    two, _ = combine_runs(np.array([1.0, 2.0]), np.array([0.01, 0.01]))
    assert two == pytest.approx(np.sqrt(2.0))  # two runs: no majority, their precision-weighted mean

    frame = synthetic_frame(n_networks=3, seed=31)
    runs = [
        frame.assign(run_id=f"run{i}", latency_ms=frame["latency_ms"] * factor)
        for i, factor in enumerate((1.0, 1.02, 1.8))
    ]
    clean = training_data(frame, DEVICE)
    # the median as such, before any alignment (test_run_alignment.py) would take the uniform factors out
    combined = training_data(pd.concat(runs, ignore_index=True), DEVICE, align=False)
    assert np.allclose(combined.targets["latency_ms"], clean.targets["latency_ms"] * 1.02)
    merged = combined.layers.set_index(["op", "config"])["latency_ms"]
    alone = clean.layers.set_index(["op", "config"])["latency_ms"]
    assert np.allclose(merged.loc[alone.index], alone * 1.02)


PINNED_RUN = {"allocator": {"policy": "steady", "applied": True}}


def _with_runs(frame, path, runs):
    """`frame` written to `path` with a provenance sidecar holding these runs."""
    import json

    written = write(frame, path)
    path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": runs}))
    return written


def test_datasets_measured_under_different_allocator_policies_are_flagged(tmp_path):
    steady = _with_runs(
        synthetic_frame(n_networks=10, seed=40), tmp_path / "steady.parquet", [{"run_id": "a", **PINNED_RUN}]
    )
    old = _with_runs(
        synthetic_frame(n_networks=10, seed=41), tmp_path / "old.parquet", [{"run_id": "b"}]
    )  # measured before the policy was recorded
    also_steady = _with_runs(
        synthetic_frame(n_networks=10, seed=42), tmp_path / "again.parquet", [{"run_id": "c", **PINNED_RUN}]
    )
    said = []
    predictor = fit([steady, old], family="polynomial", cv=False, progress=Notes(said.append))
    [warning] = predictor.doc["training"]["warnings"]
    assert "steady: steady.parquet; unrecorded: old.parquet" in warning and "one allocator policy" in warning
    assert f"warning: {warning}" in said
    assert fit([steady, also_steady], family="polynomial", cv=False).doc["training"]["warnings"] == []
    # a measure run (its method recorded) from before the policy was: glibc's as found, as compare reads it
    measured_before = _with_runs(
        synthetic_frame(n_networks=10, seed=43), tmp_path / "before.parquet", [{"run_id": "d", "method": {}}]
    )
    [warning] = fit([steady, measured_before], family="polynomial", cv=False).doc["training"]["warnings"]
    assert "steady: steady.parquet; system: before.parquet" in warning


def test_refit_networks_keeps_layer_models_and_learns_new_totals():
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data, refit_networks

    data = training_data(synthetic_frame(n_networks=10, seed=40), DEVICE)
    predictor = fit_training_data(data, ["latency_ms"], family="polynomial", cv=False)
    slower = synthetic_frame(n_networks=10, seed=41)
    slower.loc[slower["kind"] == "network", "latency_ms"] *= 2.0  # the same layers, twice as slow together
    adapted = refit_networks(predictor, training_data(slower, DEVICE))
    assert adapted.doc["layer_models"] == predictor.doc["layer_models"]
    fresh = training_data(synthetic_frame(n_networks=5, seed=42), DEVICE)
    before = predictor.predict_features(predictor.features_from_batch(fresh.networks), intervals=False)
    after = adapted.predict_features(adapted.features_from_batch(fresh.networks), intervals=False)
    assert np.allclose(after["latency_ms"] / before["latency_ms"], 2.0, rtol=0.05)


def test_fit_with_base_adapts_a_predictor_to_a_new_board(tmp_path):
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.fitting.data import training_data
    from hwprof.predictor.predictor import load_predictor

    base_path = tmp_path / "base.json"
    fit(
        [write(synthetic_frame(n_networks=10, seed=50), tmp_path / "base.parquet")],
        out=base_path,
        family="polynomial",
        cv=False,
    )
    board = synthetic_frame(n_networks=12, seed=51, device="other-board")
    board.loc[board["kind"] == "network", "latency_ms"] *= 2.0  # its layer rows are ignored: only totals are learned
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(write(board, tmp_path / "board.parquet")),
            "--base",
            str(base_path),
            "--out",
            str(tmp_path / "adapted.json"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        f"adapted {base_path} (Synthetic CPU: 10 network(s) (20 rows)" in said
    )  # the base's data, then the new board's
    assert "to other-board: layer models kept, network models learnt from 12 network(s) (24 rows)" in said
    base, adapted = load_predictor(base_path), load_predictor(tmp_path / "adapted.json")
    assert adapted.doc["layer_models"] == base.doc["layer_models"]
    assert adapted.doc["device_name"] == "other-board"
    assert adapted.doc["training"]["network_refit"]["networks"] == 24
    # held out on the new board's networks: the interval is calibrated there, not inherited
    assert len(adapted.doc["network_models"]["latency_ms"]["residuals_log"]) == 24
    batch = training_data(synthetic_frame(n_networks=4, seed=52), DEVICE).networks
    arrays = adapted.predict_features(adapted.features_from_batch(batch))
    ratio = arrays["latency_ms"] / base.predict_features(base.features_from_batch(batch), intervals=False)["latency_ms"]
    assert np.allclose(ratio, 2.0, rtol=0.1)
    assert np.all(np.isfinite(arrays["latency_ms_low"])) and np.all(np.isfinite(arrays["latency_ms_high"]))
    assert np.all(arrays["latency_ms_low"] < arrays["latency_ms"]) and np.all(
        arrays["latency_ms"] < arrays["latency_ms_high"]
    )


def test_fit_with_a_network_only_base_is_refused(tmp_path):
    from click.testing import CliRunner

    from hwprof.cli import main

    table = tmp_path / "networks.csv"
    pd.DataFrame({"model": ["mlp", "mlp_large", "alexnet"], "batch_size": 1, "latency_ms": [0.2, 0.6, 9.0]}).to_csv(
        table, index=False
    )
    fit([table], out=tmp_path / "analytic.json", cv=False)
    result = CliRunner().invoke(
        main, ["fit", str(table), "--base", str(tmp_path / "analytic.json"), "--out", str(tmp_path / "x.json")]
    )
    assert result.exit_code == 1
    assert "has no layer models" in result.output and "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("planted", [0.0, 2.56])
def test_fresh_memory_cost_is_recovered_and_extrapolates(tmp_path, planted):
    """A network also pays a cost per MB of outputs it allocates; the fit finds it and adds it outside
    the clipped correction, so held-out families are predicted with it."""
    frame = synthetic_frame(
        n_networks=30,
        seed=21,
        layer_noise=0.02,
        network_noise=0.02,
        network_factor=1.1,
        overhead_ms=0.0,
        ms_per_output_mb=planted,
    )
    predictor = fit([write(frame, tmp_path / "d.parquet")], family="polynomial")
    found = predictor.doc["network_models"]["latency_ms"]["ms_per_output_mb"]
    if planted:
        assert planted / 2 <= found <= planted * 2
    else:
        assert found <= 0.08
    assert predictor.doc["cv"]["metrics"]["latency_ms"]["mape"] < 0.06


def test_no_fresh_memory_cost_is_fitted_when_every_run_pinned_the_allocator(tmp_path):
    frame = synthetic_frame(n_networks=15, seed=44, ms_per_output_mb=2.56)
    unpinned = write(frame, tmp_path / "unpinned.parquet")
    pinned = _with_runs(frame, tmp_path / "pinned.parquet", [{"run_id": "p", **PINNED_RUN}])
    learnt = fit([unpinned], family="polynomial", cv=False)
    assert learnt.doc["network_models"]["latency_ms"]["ms_per_output_mb"] > 1.0
    assert learnt.doc["training"]["allocator_pinned"] is False
    skipped = fit([pinned], family="polynomial", cv=False)
    assert skipped.doc["network_models"]["latency_ms"]["ms_per_output_mb"] == 0.0
    assert skipped.doc["training"]["allocator_pinned"] is True


def test_rows_timed_under_contention_count_as_less_precise():
    from hwprof.fitting.data import _relative_ci
    from hwprof.fitting.layers import precision_weights

    rows = pd.DataFrame(
        {
            "latency_ms": [10.0, 10.0, 10.0],
            "latency_ms_ci_low": [9.9] * 3,
            "latency_ms_ci_high": [10.1] * 3,
            "stable": [True] * 3,
            "other_cpu_share": [0.0, 0.3, None],
        }
    )
    relative = _relative_ci(rows).to_numpy()
    assert relative[0] == pytest.approx(0.01) and relative[2] == pytest.approx(0.01)
    assert relative[1] == pytest.approx(np.hypot(0.01, 0.3))
    weights = precision_weights(relative, 3)
    assert weights[1] < weights[0] / 10


@pytest.mark.parametrize("stable", [False, None])
def test_a_row_from_too_few_samples_to_bound_its_median_gets_the_least_precision_weight(stable):
    from hwprof.fitting.data import UNSTABLE_RELATIVE_CI, _relative_ci
    from hwprof.fitting.layers import precision_weights

    rows = pd.DataFrame(
        {
            "latency_ms": [10.0, 10.0, 10.0, 10.0],
            "latency_ms_ci_low": [9.9, 7.0, 9.99, None],  # precise, imprecise, 3 samples' range, 3 samples now
            "latency_ms_ci_high": [10.1, 13.0, 10.01, None],
            "samples": [50, 50, 3, 3],
            "stable": [True, stable, stable, stable],
        }
    )
    relative = _relative_ci(rows).to_numpy()
    assert relative[2] == relative[3] == relative[1] == pytest.approx(max(0.3, UNSTABLE_RELATIVE_CI))
    weights = precision_weights(relative, 4)
    assert weights[2] <= weights[1] and weights[3] <= weights[1] and weights[2] < weights[0] / 10


def test_fit_says_in_one_line_which_rows_it_distrusted(tmp_path):
    frame = synthetic_frame(n_networks=15, seed=45)
    networks = frame.index[frame["kind"] == "network"]
    frame["other_cpu_share"] = 0.0
    frame.loc[networks[:2], "other_cpu_share"] = [0.49, 0.2]
    frame.loc[networks[2], "discarded_bursts"] = 7  # its contended bursts were dropped: what it kept is clean
    notes = []
    predictor = fit(
        [write(frame, tmp_path / "busy.parquet")], family="polynomial", cv=False, progress=Notes(notes.append)
    )
    said = [note for note in notes if note.startswith("distrusted")]
    first, second = frame.loc[networks[0]], frame.loc[networks[1]]
    assert len(said) == 1 and said[0].startswith(f"distrusted 2 of {len(frame)} rows")
    assert f"{first.model} batch {first.batch_size} network (49%), {second.model}" in said[0]
    assert said[0] in predictor.doc["training"]["warnings"]
    quiet = fit([write(frame.assign(other_cpu_share=0.01), tmp_path / "quiet.parquet")], family="polynomial", cv=False)
    assert not any(warning.startswith("distrusted") for warning in quiet.doc["training"]["warnings"])


def test_sweep_rows_that_mislead_the_held_out_families_are_left_out_and_helpful_ones_kept():
    """A default run's sweep can draw a few configurations unlike every network's (tiny layers whose
    launch cost dominates): the op's model is then fitted without them when that predicts the held-out
    families better, and the choice is replayed by a refit inside cross-validation."""
    from fakes.synthetic import conv_configs
    from hwprof.fitting.layers import WITHOUT_SWEEPS, fit_op_model

    variables, z, y, groups = conv_configs(synthetic_frame(n_networks=12, seed=9, layer_noise=0.05))
    sweeps = np.arange(len(y)) % 3 == 0
    groups = np.where(sweeps, "sweep", groups)
    columns = list(range(len(variables)))
    kept, _ = fit_op_model(z, y, groups, variables, columns, "polynomial", always_train=sweeps, sweeps_optional=True)
    assert kept.cv["family"] == "polynomial"  # the sweep follows the networks' law: it stays
    assert f"polynomial{WITHOUT_SWEEPS}" in kept.cv["weighted_log_rmse"]

    misleading = np.where(sweeps, y + np.log(8.0), y)  # the sweep's rows 8x slower than the same layers in networks
    model, oof = fit_op_model(
        z, misleading, groups, variables, columns, "polynomial", always_train=sweeps, sweeps_optional=True
    )
    assert model.cv["family"] == f"polynomial{WITHOUT_SWEEPS}"
    assert np.isnan(oof[sweeps]).all() and np.isfinite(oof[~sweeps]).all()
    errors = model.cv["weighted_log_rmse"]
    assert errors[f"polynomial{WITHOUT_SWEEPS}"] < 0.98 * errors["polynomial"]
    alone, _ = fit_op_model(z[~sweeps], y[~sweeps], groups[~sweeps], variables, columns, "polynomial")
    assert np.allclose(model.predict_log(z), alone.predict_log(z))  # the networks' rows alone
    replayed, _ = fit_op_model(
        z, misleading, groups, variables, columns, f"polynomial{WITHOUT_SWEEPS}", always_train=sweeps
    )
    assert np.allclose(replayed.predict_log(z), model.predict_log(z))
    # only where asked (an op's own model on all data): group models and replays keep every row
    plain, _ = fit_op_model(z, misleading, groups, variables, columns, "polynomial", always_train=sweeps)
    assert plain.cv["family"] == "polynomial" and f"polynomial{WITHOUT_SWEEPS}" not in plain.cv["weighted_log_rmse"]


def test_held_out_residuals_are_those_of_the_network_model_the_predictor_holds(tmp_path):
    # 7 networks choose no correction; a fold of 5 is too few to choose, and would scale its layer sums
    # by a ratio fitted unchecked: its held-out errors would then not be those of the predictor's model
    frame = synthetic_frame(
        n_networks=7, batch_sizes=(1,), seed=3, network_factor=1.0, overhead_ms=0.0, network_noise=0.15
    )
    pinned = _with_runs(frame, tmp_path / "d.parquet", [{"run_id": "p", **PINNED_RUN}])  # no fresh-memory cost
    predictor = fit([pinned], family="polynomial")
    assert predictor.doc["network_models"]["latency_ms"]["cv"]["columns"] == []
    held_out = predictor.doc["cv"]["held_out_predictions"]
    assert len(held_out) == 7
    for row in held_out:
        assert row["predicted_latency_ms"] == pytest.approx(row["predicted_latency_ms_layer_sum"], rel=1e-9)
    metrics = predictor.doc["cv"]["metrics"]
    assert metrics["latency_ms"]["mape"] == pytest.approx(metrics["latency_ms_layer_sum"]["mape"])


def test_fit_with_base_on_another_board_drops_the_bases_layer_power(tmp_path):
    """The base's power layer models were kept on another board, so predict gave that board's layer power and
    energy sums for this one."""
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.predictor.predictor import load_predictor

    base_path = tmp_path / "base.json"
    fit(
        [write(synthetic_frame(n_networks=10, seed=50, with_power=True), tmp_path / "base.parquet")],
        out=base_path,
        cv=False,
    )
    assert "power_w" in load_predictor(base_path).doc["layer_models"]
    board = write(synthetic_frame(n_networks=12, seed=51, device="other-board"), tmp_path / "board.parquet")
    out = tmp_path / "adapted.json"
    result = CliRunner().invoke(main, ["fit", str(board), "--base", str(base_path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "layer latency models kept, its power_w layer models dropped" in " ".join(result.output.split())
    adapted = load_predictor(out)
    assert list(adapted.doc["layer_models"]) == ["latency_ms"]
    assert "power_w_layer_sum" not in adapted.predict("mlp").total
    same_board = write(synthetic_frame(n_networks=12, seed=52), tmp_path / "same.parquet")
    fit([same_board], base=base_path, out=tmp_path / "same.json", cv=False)
    assert "power_w" in load_predictor(tmp_path / "same.json").doc["layer_models"]  # this board's power still


@pytest.mark.parametrize("device, threads", [("other-board", 1), (DEVICE, 2)])
def test_fit_with_base_learns_the_new_boards_scale_even_where_one_family_does_not_follow_it(device, threads):
    # the base's layer sums are another board's latency (or another thread count's): a single scale is the
    # simplest candidate on the new data, not the sum as it is, so one family that scales otherwise cannot veto it
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data, refit_networks

    def sources(name, count):
        return [{"path": name, "runs": [{"run_id": name, "threads": count}]}]

    base_data = training_data(synthetic_frame(n_networks=10, seed=60), DEVICE, sources("base.parquet", 1))
    base = fit_training_data(base_data, ["latency_ms"], "polynomial", cv=False)
    board = synthetic_frame(n_networks=15, seed=61, device=device, network_noise=0.03)
    networks = board["kind"] == "network"
    odd = board["model"].str.startswith("epsilon")
    board.loc[networks & ~odd, "latency_ms"] *= 2.0
    adapted = refit_networks(base, training_data(board, device, sources("board.parquet", threads)))
    fresh = training_data(synthetic_frame(n_networks=8, seed=62, families=("alpha", "beta")), DEVICE).networks
    before = base.predict_features(base.features_from_batch(fresh), intervals=False)["latency_ms"]
    after = adapted.predict_features(adapted.features_from_batch(fresh), intervals=False)["latency_ms"]
    assert np.median(after / before) > 1.4  # 12 networks run 2x, 3 as before: one relative-error scale is 1.5x
    assert "scale" in adapted.doc["network_models"]["latency_ms"]["cv"]["log_rmse"]
    # on the same board at the same thread count, the layer sum as it is stays the simplest candidate
    same = refit_networks(base, training_data(synthetic_frame(n_networks=15, seed=61), DEVICE, sources("s", 1)))
    assert "identity" in same.doc["network_models"]["latency_ms"]["cv"]["log_rmse"]


def test_fit_with_base_keeps_the_other_boards_sum_as_it_is_where_a_scale_predicts_held_out_families_worse():
    # a board that runs like the base but for one family: a scale fitted to the others would move every
    # family off, and the sum as it is predicts held-out families better in the same cross-validation
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data, refit_networks

    base_data = training_data(synthetic_frame(n_networks=10, seed=60), DEVICE)
    base = fit_training_data(base_data, ["latency_ms"], "polynomial", cv=False)
    board = synthetic_frame(n_networks=15, seed=61, device="other-board", network_noise=0.02)
    board.loc[(board["kind"] == "network") & board["model"].str.startswith("epsilon"), "latency_ms"] *= 0.4
    adapted = refit_networks(base, training_data(board, "other-board"))
    cv = adapted.doc["network_models"]["latency_ms"]["cv"]
    assert cv["simplest"] == "identity" and cv["log_rmse"]["identity"] <= cv["log_rmse"]["scale"]
    if not cv["columns"]:  # no correction either: the base board's layer sums, unscaled
        assert not any(adapted.doc["network_models"]["latency_ms"]["coef"])


def test_datasets_measured_at_different_thread_counts_are_refused(tmp_path):
    one = synthetic_frame(n_networks=6, seed=70).assign(run_id="one")
    two = synthetic_frame(n_networks=6, seed=71).assign(run_id="two")
    paths = [
        _with_runs(one, tmp_path / "one.parquet", [{"run_id": "one", "threads": 1}]),
        _with_runs(two, tmp_path / "two.parquet", [{"run_id": "two", "threads": 2}]),
    ]
    with pytest.raises(HwprofError, match=r"different thread counts \(1: one.parquet; 2: two.parquet\)"):
        fit(paths, cv=False)
    assert fit(paths[:1], cv=False).doc["training"]["rows"]["networks"] == 12  # one thread count fits


def test_a_row_of_unknown_precision_weighs_as_the_least_precise_not_the_most():
    from hwprof.fitting.layers import precision_weights

    weights = precision_weights(np.array([0.01, 0.2, np.nan]), 3)
    assert weights[2] == pytest.approx(weights[1]) and weights[2] < weights[0]
    assert np.allclose(precision_weights(np.array([np.nan, np.nan]), 2), 1.0)


def test_a_fold_whose_held_out_family_held_every_layer_row_is_left_unscored(tmp_path):
    """One family measured with its layers, the others as network rows only (a GPU run of one zoo model
    beside whole-network runs): holding that family out leaves nothing to fit layer models from."""
    frame = synthetic_frame(n_networks=4, seed=46, families=("alpha",))
    network = frame[frame["kind"] == "network"].iloc[0]
    others = ["mlp", "mlp_large", "squeezenet1_1", "mobilenet_v2_050", "vit_tiny"]
    rows = [network.to_dict() | {"model": name, "latency_ms": 0.5 + k, "config": "{}"} for k, name in enumerate(others)]
    for column in ("latency_ms_ci_low", "latency_ms_ci_high"):
        for row in rows:
            row[column] = row["latency_ms"] * (0.99 if column.endswith("low") else 1.01)
    frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
    said = []
    path = write(frame, tmp_path / "one_family_layers.parquet")
    predictor = fit([path], family="polynomial", progress=Notes(said.append))
    cv = predictor.doc["cv"]
    assert cv["unscored"] == ["alpha"] and any("not scored: without alpha" in line for line in said)
    held = {row["model"]: row["predicted_latency_ms"] for row in cv["held_out_predictions"]}
    assert all(held[name] is None for name in held if name.startswith("alpha"))
    assert all(held[name] is not None for name in others)
    assert cv["metrics"]["latency_ms"]["n"] == len(others)


def test_with_fewer_than_three_families_a_network_is_never_trained_and_tested_on():
    """Below three families the folds split rows, so a network's batch size 4 trained the fold that tested its
    batch size 1 (27 of 30 networks in an audit): the CV figures scored networks the fold had seen."""
    networks = np.array([f"net{k}" for k in range(12) for _ in (1, 4)])  # each network at two batch sizes
    folds = make_folds(np.array(["a"] * 24), units=networks)
    assert folds.scheme == "5-fold over networks (1 family)"
    for train, test in folds.splits:
        assert set(networks[train]).isdisjoint(networks[test])
    assert sorted(np.concatenate([test for _, test in folds.splits])) == list(range(24))


def test_a_one_family_fit_cross_validates_over_whole_networks(tmp_path):
    frame = synthetic_frame(n_networks=12, seed=4, families=FAMILIES[:1], batch_sizes=(1, 4))
    predictor = fit([write(frame, tmp_path / "one.parquet")], family="polynomial")
    assert predictor.doc["cv"]["scheme"].startswith("5-fold over networks (1 family)")
