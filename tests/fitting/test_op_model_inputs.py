"""What a layer model is given to learn from: an op measured too rarely for a model of its own is costed by
its op group's model, shifted by what its own measured layers say (an average pool is not a max pool,
though both are pools); a matrix product fed inputs of several ranks, by its GEMM sizes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor.features import LayerRecord
from hwprof.predictor.predictor import load_predictor

SLOWER = 3.0  # the planted average pools run this much slower than max pools of the same shape


def _pool_records(frame: pd.DataFrame, op: str) -> list[LayerRecord]:
    pools = frame[(frame["kind"] == "layer") & (frame["op"] == "maxpool2d")].drop_duplicates("config")
    return [
        LayerRecord(op, r.config, r.flops, r.input_bytes, r.output_bytes, r.weight_bytes) for r in pools.itertuples()
    ]


def _average_pool_sweep(frame: pd.DataFrame) -> pd.DataFrame:
    """Two average pools, SLOWER times a max pool of their shape, as a small default sweep measures them."""
    pools = frame[(frame["kind"] == "layer") & (frame["op"] == "maxpool2d")].drop_duplicates("config").head(2).copy()
    pools["model"] = "sweep:avgpool2d:2:0"
    pools["op"] = "avgpool2d"
    for column in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"):
        pools[column] = pools[column] * SLOWER
    return pools


def test_a_rarely_measured_op_shifts_its_group_model_by_what_its_own_layers_say(tmp_path):
    frame = synthetic_frame(n_networks=20, seed=9)
    sweep = _average_pool_sweep(synthetic_frame(n_networks=6, seed=3))
    dataset = write(pd.concat([frame, sweep], ignore_index=True), tmp_path / "with_avgpool.parquet")
    path = tmp_path / "predictor.json"
    fit([dataset], path, family="auto", cv=False)
    predictor = load_predictor(path)
    entry = json.loads(path.read_text())["layer_models"]["latency_ms"]
    assert "avgpool2d" not in entry["ops"] and "avgpool2d" in entry["measured_only"]
    offset = entry["offsets"]["avgpool2d"]
    # two layers, each about log(3) above the group's law: shifted two thirds of the way
    assert 0.5 * np.log(SLOWER) < offset < np.log(SLOWER)

    # max pools of shapes the sweep never measured: the average pool of each is predicted slower by the offset
    maxpools = _pool_records(frame, "maxpool2d")
    averages = _pool_records(frame, "avgpool2d")
    names = [f"n{i}" for i in range(len(maxpools))]
    as_max = predictor.features_from_layers(names, [1] * len(names), [[r] for r in maxpools])
    as_avg = predictor.features_from_layers(names, [1] * len(names), [[r] for r in averages])
    by_group = load_predictor(path)
    by_group.layer_sets["latency_ms"].offsets.clear()
    unshifted = by_group.features_from_layers(names, [1] * len(names), [[r] for r in averages])
    shift = as_avg.layer_log["latency_ms"] - unshifted.layer_log["latency_ms"]
    assert np.allclose(shift, offset)
    models = predictor.layer_sets["latency_ms"]
    assert [models.labels[i] for i in as_avg.model_index["latency_ms"]] == ["pool group"] * len(names)
    said = f"the model of its op group (pool) times {np.exp(offset):.2f}, from its measured layers"
    assert models.covered_by("avgpool2d") == said
    truth = as_max.layer_log["latency_ms"] + np.log(SLOWER)  # max pools have their own, well-fitted model
    assert np.mean(np.abs(as_avg.layer_log["latency_ms"] - truth)) < np.mean(
        np.abs(unshifted.layer_log["latency_ms"] - truth)
    )


def test_an_op_that_follows_its_groups_law_is_barely_shifted_and_ops_with_models_not_at_all(tmp_path):
    frame = synthetic_frame(n_networks=20, seed=9)
    sweep = _average_pool_sweep(synthetic_frame(n_networks=6, seed=3))
    sweep["latency_ms"] = sweep["latency_ms"] / SLOWER  # as fast as max pools of their shape
    path = tmp_path / "predictor.json"
    fit([write(pd.concat([frame, sweep], ignore_index=True), tmp_path / "plain.parquet")], path, cv=False)
    entry = json.loads(path.read_text())["layer_models"]["latency_ms"]
    assert abs(entry["offsets"]["avgpool2d"]) < 0.1 * np.log(SLOWER)
    assert set(entry["offsets"]) <= set(entry["measured_only"])
    assert not set(entry["offsets"]) & set(entry["ops"])


def _token_linear_sweep(n: int = 8) -> pd.DataFrame:
    """Linear layers over token sequences (3-D inputs), following the synthetic frame's planted law."""
    from fakes.synthetic import _row, planted_log_latency

    rng = np.random.default_rng(4)
    rows = []
    for i in range(n):
        tokens, features, out = int(rng.integers(8, 200)), int(rng.choice([64, 128, 256])), int(rng.choice([32, 96]))
        config = {
            "bias": True,
            "in_features": features,
            "out_features": out,
            "input_shapes": [[1, tokens, features]],
            "output_shape": [1, tokens, out],
        }
        record = LayerRecord(
            "linear",
            json.dumps(config, sort_keys=True, separators=(",", ":")),
            float(tokens * features * out),
            4.0 * tokens * features,
            4.0 * tokens * out,
            4.0 * (features + 1) * out,
        )
        latency = float(np.exp(planted_log_latency([record])[0]))
        rows.append(_row("layer", "sweep:linear:8:0", 1, i, f"l{i}", record, latency, None, "Synthetic CPU"))
    return pd.DataFrame(rows)


def test_a_matrix_product_fed_several_input_ranks_is_modelled_on_its_gemm_sizes_not_on_rank_dependent_shapes(
    tmp_path,
):
    from hwprof.predictor.features import RANK_DEPENDENT_VARIABLES

    frame = synthetic_frame(n_networks=20, seed=9)  # classifiers: 2-D inputs; convolutions: 4-D only
    path = tmp_path / "predictor.json"
    fit([write(pd.concat([frame, _token_linear_sweep()], ignore_index=True), tmp_path / "mixed.parquet")], path)
    ops = json.loads(path.read_text())["layer_models"]["latency_ms"]["ops"]

    def variables_of(model: dict) -> set[str]:
        parts = [model] + [model[k] for k in ("polynomial", "trees") if isinstance(model.get(k), dict)]
        return {v for part in parts for v in part.get("coverage", {}).get("variables", [])}

    assert variables_of(ops["linear"]) and not variables_of(ops["linear"]) & set(RANK_DEPENDENT_VARIABLES)
    assert set(RANK_DEPENDENT_VARIABLES) <= variables_of(ops["conv2d"])  # one rank: what in_dim1 means is clear


def test_out_of_fold_a_familys_rare_layers_are_shifted_only_by_what_other_families_measured():
    """The network model learns from out-of-fold layer sums: a held-out family's average pools must be
    shifted by the other families' average pools, never by their own measurement."""
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import _fit_layer_target
    from hwprof.models.spec import family_of
    from hwprof.predictor.features import BASE_VARIABLES, config_variables, encode_layers

    frame = synthetic_frame(n_networks=20, seed=9)
    pools = (frame["kind"] == "layer") & (frame["op"] == "maxpool2d")
    family = frame["model"].map(family_of)
    slower = {"alpha": SLOWER, "beta": 1.0}  # alpha's average pools are slow, beta's like max pools
    chosen = pools & frame["model"].isin(["alpha_0", "beta_1"]) & (frame["batch_size"] == 1)
    frame.loc[chosen, "op"] = "avgpool2d"
    for column in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"):
        frame.loc[chosen, column] *= family[chosen].map(slower)
    data = training_data(frame, "Synthetic CPU")
    assert 0 < (data.layers["op"] == "avgpool2d").sum() < 6  # too few for a model of its own
    variables = list(BASE_VARIABLES) + config_variables(json.loads(c) for c in set(data.layers["config"]))
    z = encode_layers(data.layer_records, variables)
    mask = np.ones(len(data.layers), dtype=bool)
    entry, out_of_fold = _fit_layer_target(data, variables, z, "latency_ms", "polynomial", mask)
    average = (data.layers["op"] == "avgpool2d").to_numpy()
    measured = np.log(data.layers["latency_ms"].to_numpy())
    error = out_of_fold - measured
    families = data.layers["family"].to_numpy()
    alpha, beta = average & (families == "alpha"), average & (families == "beta")
    assert alpha.any() and beta.any() and "avgpool2d" in entry["offsets"]
    # held out, alpha's slow pools are predicted as fast as beta's (which say nothing of alpha's slowness),
    # and beta's fast pools are predicted slower, from alpha's; shifted by every family's pools, their own
    # included, they would come out at -0.82 and +0.22 log 3
    assert error[alpha].mean() < -0.9 * np.log(SLOWER)
    assert error[beta].mean() > 0.4 * np.log(SLOWER)
