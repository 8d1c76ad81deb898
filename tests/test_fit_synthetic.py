"""Synthetic hwprof datasets with a planted cost law, and the fitter recovering it.

Other fit tests import `synthetic_frame` from here. Layer latencies follow a
known log-space polynomial of the layer variables; a network's latency is the
sum of its layers times 1.15 plus 20 us per layer, so every number the fitter
should find is known exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hwprof.predictor.features import LayerRecord, encode_layers, signed_log1p
from hwprof.schema import REQUIRED_COLUMNS

DEVICE = "Synthetic CPU"
FAMILIES = ("alpha", "beta", "gamma", "delta", "epsilon")
NETWORK_FACTOR = 1.15
OVERHEAD_MS = 0.02


def _conv(rng, batch, channels, size):
    out_channels = int(rng.choice([8, 16, 32, 64, 96, 128]))
    kernel = int(rng.choice([1, 3, 5]))
    stride = int(rng.choice([1, 1, 2]))
    out_size = max(1, size // stride)
    config = {"bias": False, "dilation": [1, 1], "groups": 1, "in_channels": channels, "kernel_size": [kernel, kernel],
              "out_channels": out_channels, "padding": [kernel // 2] * 2, "stride": [stride, stride],
              "input_shapes": [[batch, channels, size, size]], "output_shape": [batch, out_channels, out_size, out_size]}
    flops = batch * out_channels * out_size * out_size * channels * kernel * kernel
    weight = out_channels * channels * kernel * kernel * 4
    return "conv2d", config, flops, weight, out_channels, out_size


def _elementwise(op, batch, channels, size):
    config = {"input_shapes": [[batch, channels, size, size]], "output_shape": [batch, channels, size, size]}
    return op, config, batch * channels * size * size, 0, channels, size


def _pool(batch, channels, size):
    out_size = max(1, size // 2)
    config = {"kernel_size": 2, "stride": 2, "padding": 0, "input_shapes": [[batch, channels, size, size]],
              "output_shape": [batch, channels, out_size, out_size]}
    return "maxpool2d", config, batch * channels * out_size * out_size * 4, 0, channels, out_size


def _linear(batch, features, out_features):
    config = {"bias": True, "in_features": features, "out_features": out_features,
              "input_shapes": [[batch, features]], "output_shape": [batch, out_features]}
    return "linear", config, batch * features * out_features, (features + 1) * out_features * 4


def network_layers(rng, batch, depth):
    """A random conv net: conv/relu blocks, some pools, a classifier."""
    channels, size = 3, int(rng.choice([32, 64]))
    layers = []
    for _ in range(depth):
        op, config, flops, weight, channels, size = _conv(rng, batch, channels, size)
        layers.append((op, config, flops, weight))
        op, config, flops, weight, channels, size = _elementwise("relu", batch, channels, size)
        layers.append((op, config, flops, weight))
        if size >= 8 and rng.random() < 0.3:
            op, config, flops, weight, channels, size = _pool(batch, channels, size)
            layers.append((op, config, flops, weight))
    op, config, flops, weight = _linear(batch, channels * size * size, 10)
    layers.append((op, config, flops, weight))
    records = []
    for op, config, flops, weight in layers:
        elements_in = sum(int(np.prod(s)) for s in config["input_shapes"])
        elements_out = int(np.prod(config["output_shape"]))
        records.append(LayerRecord(op, json.dumps(config, sort_keys=True, separators=(",", ":")), float(flops),
                                   4.0 * elements_in, 4.0 * elements_out, float(weight)))
    return records


def planted_log_latency(records):
    """The ground truth: a sparse polynomial in the signed-log1p layer variables (ms)."""
    z = encode_layers(records, ["flops", "bytes_total", "config.kernel_size", "config.stride", "batch"])
    flops, bytes_total, kernel, stride, batch = z.T
    ops = np.array([r.op for r in records])
    conv = -13.0 + 0.8 * flops + 0.15 * bytes_total + 0.05 * kernel * stride - 0.1 * stride
    relu = -12.0 + 0.9 * bytes_total
    pool = -11.5 + 0.7 * bytes_total + 0.02 * batch * batch
    linear = -12.5 + 0.85 * flops + 0.1 * batch
    return np.select([ops == "conv2d", ops == "relu", ops == "maxpool2d"], [conv, relu, pool], linear)


def synthetic_frame(n_networks=40, batch_sizes=(1, 4), seed=0, layer_noise=0.0, network_noise=0.0,
                    device=DEVICE, with_power=False, families=FAMILIES, network_factor=NETWORK_FACTOR,
                    overhead_ms=OVERHEAD_MS, ms_per_output_mb=0.0) -> pd.DataFrame:
    """A full hwprof dataset (layer and network rows) of random conv nets with the planted law;
    a network also pays `ms_per_output_mb` per MB of layer outputs, as fresh memory costs on a CPU."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in range(n_networks):
        family = families[n % len(families)]
        model = f"{family}_{n}"
        depth = int(rng.integers(3, 9))
        arch_seed = int(rng.integers(1 << 30))
        for batch in batch_sizes:
            records = network_layers(np.random.default_rng(arch_seed), batch, depth)
            true_log = planted_log_latency(records)
            layer_latency = np.exp(true_log + rng.normal(0, layer_noise, len(records)))
            power = 10 + 5 * (np.array([r.op for r in records]) == "conv2d")
            for i, (record, latency) in enumerate(zip(records, layer_latency)):
                rows.append(_row("layer", model, batch, i, f"layer{i}", record, latency,
                                 power[i] if with_power else None, device))
            fresh_mb = sum(r.output_bytes for r in records) / 1e6
            network_ms = (network_factor * np.exp(true_log).sum() + overhead_ms * len(records)
                          + ms_per_output_mb * fresh_mb) * float(np.exp(rng.normal(0, network_noise)))
            total = LayerRecord("network", "{}", sum(r.flops for r in records), 0.0, 0.0, 0.0)
            network_power = float(np.sum(np.exp(true_log) * power) / np.exp(true_log).sum()) if with_power else None
            rows.append(_row("network", model, batch, -1, "", total, network_ms, network_power, device))
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def _row(kind, model, batch, index, name, record, latency, power, device):
    return {"kind": kind, "model": model, "batch_size": batch, "device": "cpu", "device_name": device,
            "layer_index": index, "layer_name": name, "op": record.op, "config": record.config,
            "flops": int(record.flops), "params": int(record.weight_bytes // 4), "input_bytes": int(record.input_bytes),
            "output_bytes": int(record.output_bytes), "weight_bytes": int(record.weight_bytes),
            "latency_ms": float(latency), "latency_ms_ci_low": float(latency) * 0.99,
            "latency_ms_ci_high": float(latency) * 1.01, "latency_ms_std": float(latency) * 0.01, "samples": 10,
            "iterations": 100, "stable": True, "power_w": power, "idle_power_w": 5.0 if power is not None else None,
            "energy_mj": power * float(latency) if power is not None else None,
            "power_source": "synthetic" if power is not None else "none"}


def write(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path) if str(path).endswith(".parquet") else frame.to_csv(path, index=False)
    return str(path)


# --- the planted law is recovered -----------------------------------------------------------


def test_planted_polynomial_is_recovered_per_op():
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data

    data = training_data(synthetic_frame(n_networks=30, seed=1), DEVICE)
    predictor = fit_training_data(data, ["latency_ms"], family="polynomial", cv=False)
    fresh = synthetic_frame(n_networks=10, seed=99)
    layers = fresh[fresh["kind"] == "layer"]
    records = [LayerRecord(r.op, r.config, r.flops, r.input_bytes, r.output_bytes, r.weight_bytes)
               for r in layers.itertuples()]
    models = predictor.layer_sets["latency_ms"]
    z = encode_layers(records, predictor.variables)
    index = models.model_index([r.op for r in records])
    predicted = models.stacked.predict_log(z, index)
    error = np.abs(predicted - planted_log_latency(records))
    # noise-free data from a law inside the model class: held-out layers inside the training range within 1%
    # (two-valued variables such as batch 1/4 leave equivalent term sets; CV picks one of them), and a few
    # unseen combinations held at the correction's training range
    inside = np.all((z >= models.stacked.low[index]) & (z <= models.stacked.high[index]), axis=1)
    assert inside.sum() > 0.8 * len(records)
    assert np.quantile(error[inside], 0.95) < 0.01
    assert np.max(error[inside]) < 0.05
    # outside it the correction is held at the edge of the range and the power-law base extrapolates
    assert np.max(error) < 0.05
    assert set(models.ops) == {"conv2d", "relu", "maxpool2d", "linear"}
    relu = models.ops["relu"]
    bytes_total = predictor.variables.index("bytes_total")
    # relu's law is one power law in bytes: the base picks that form and carries it alone
    assert relu.base.form == "power" and list(relu.base.coef) == [bytes_total]
    assert not relu.quadratic
    slope = relu.base.coef[bytes_total] + relu.linear.get(bytes_total, 0.0)
    assert slope == pytest.approx(0.9, abs=1e-3)
    assert relu.base.intercept + relu.intercept == pytest.approx(-12.0, abs=1e-2)


def test_network_model_learns_what_isolated_layers_miss():
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data

    data = training_data(synthetic_frame(n_networks=30, seed=2), DEVICE)
    predictor = fit_training_data(data, ["latency_ms"], family="polynomial", cv=False)
    assert predictor.network_models["latency_ms"].form == "log_ratio"
    fresh = synthetic_frame(n_networks=8, seed=77)
    rows = fresh[fresh["kind"] == "network"]
    truth = dict(zip(zip(rows["model"], rows["batch_size"]), rows["latency_ms"]))
    fresh_data = training_data(fresh, DEVICE)
    arrays = predictor.predict_features(predictor.features_from_batch(fresh_data.networks))
    expected = np.array([truth[(name, int(size))] for name, size in zip(fresh_data.networks.names,
                                                                         fresh_data.networks.batch_sizes)])
    # the planted network is 1.15 x its layers + 20 us per layer: the plain layer sum misses that ...
    assert np.all(arrays["latency_ms_layer_sum"] < expected / NETWORK_FACTOR * 1.01)
    # ... the network model learns it (within a few percent: its correction is log-linear in the layer
    # density and its fresh-memory term scales with activations, so 20 us per layer is approximated)
    error = np.abs(arrays["latency_ms"] / expected - 1)
    assert np.median(error) < 0.02 and error.max() < 0.06


def test_networks_that_are_the_sum_of_their_layers_get_no_correction():
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import fit_training_data

    frame = synthetic_frame(n_networks=30, seed=3, layer_noise=0.02, network_noise=0.02, network_factor=1.0,
                            overhead_ms=0.0)
    predictor = fit_training_data(training_data(frame, DEVICE), ["latency_ms"], family="polynomial", cv=False)
    model = predictor.doc["network_models"]["latency_ms"]
    assert "identity" in model["cv"]["log_rmse"] and model["cv"]["columns"] == []
    assert np.all(np.asarray(model["coef"]) == 0.0)  # the prediction is the layer sum as it is


def test_signed_log1p_is_symmetric():
    assert signed_log1p(-3.0) == pytest.approx(-signed_log1p(3.0))
    assert signed_log1p(0.0) == 0.0


_fitted: dict = {}


def fitted_predictor_path(tmp_dir, family="polynomial", n_networks=15, seed=5, cv=True, **noise):
    """A predictor fitted once per process on a noisy synthetic dataset, and its dataset's path."""
    import pathlib

    from hwprof.fitting.pipeline import fit

    key = (family, n_networks, seed, cv, tuple(sorted(noise.items())))
    if key not in _fitted:
        directory = pathlib.Path(tmp_dir)
        dataset = write(synthetic_frame(n_networks=n_networks, seed=seed, **noise), directory / f"train{seed}.parquet")
        out = directory / f"predictor{len(_fitted)}.json"
        fit([dataset], out, family=family, cv=cv)
        _fitted[key] = (str(out), dataset)
    return _fitted[key]


def conv_configs(frame):
    """The unique conv2d configurations of a synthetic frame: (variables, z, log latency, family)."""
    from hwprof.predictor.features import BASE_VARIABLES

    conv = frame[frame["op"] == "conv2d"].drop_duplicates("config")
    records = [LayerRecord(r.op, r.config, r.flops, r.input_bytes, r.output_bytes, r.weight_bytes)
               for r in conv.itertuples()]
    variables = list(BASE_VARIABLES)
    return (variables, encode_layers(records, variables), np.log(conv["latency_ms"].to_numpy()),
            conv["model"].str.split("_").str[0].to_numpy())


def test_blend_is_the_mean_of_polynomial_and_trees_and_auto_scores_all_three():
    from hwprof.fitting.layers import blend, fit_op_model, fit_polynomial, fit_trees, make_folds, precision_weights
    from hwprof.predictor.layer_model import LayerModel

    variables, z, y, groups = conv_configs(synthetic_frame(n_networks=20, seed=70, layer_noise=0.1))
    folds, w = make_folds(groups), precision_weights(None, len(y))
    physical = [variables.index("flops"), variables.index("bytes_total")]
    columns = list(range(len(variables)))
    polynomial, _ = fit_polynomial(z, y, w, folds, columns, physical)
    trees, _ = fit_trees(z, y, w, folds, columns, physical)
    mixed = blend(polynomial, trees)
    expected = (polynomial.predict_log(z) + trees.predict_log(z)) / 2
    assert np.allclose(mixed.predict_log(z), expected)
    again = LayerModel.from_json(mixed.to_json(variables), variables)
    assert again.kind == "blend" and np.allclose(again.predict_log(z), expected)

    model, _ = fit_op_model(z, y, groups, variables, columns, "auto")
    errors = model.cv["weighted_log_rmse"]
    assert set(errors) == {"polynomial", "trees", "blend"}
    assert model.kind == model.cv["family"] == min(errors, key=errors.get)
