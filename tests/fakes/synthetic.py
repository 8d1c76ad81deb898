"""Synthetic hwprof datasets with a planted cost law, for the fit, predict and evaluate tests.
 Layer latencies follow a
known log-space polynomial of the layer variables; a network's latency is the
sum of its layers times 1.15 plus 20 us per layer, so every number the fitter
should find is known exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from hwprof.predictor.features import LayerRecord, encode_layers
from hwprof.schema import REQUIRED_COLUMNS

DEVICE = "Synthetic CPU"
# the conditions a predictor fitted on synthetic runs at one thread, cold, in float32 reports (Predictor.conditions)
ONE_THREAD_COLD = {
    "device_name": DEVICE,
    "device": ["cpu"],
    "threads": [1],
    "dtypes": ["float32"],
    "layouts": ["contiguous"],
    "cache": ["cold"],
}
FAMILIES = ("alpha", "beta", "gamma", "delta", "epsilon")
NETWORK_FACTOR = 1.15
OVERHEAD_MS = 0.02


def _conv(rng, batch, channels, size):
    out_channels = int(rng.choice([8, 16, 32, 64, 96, 128]))
    kernel = int(rng.choice([1, 3, 5]))
    stride = int(rng.choice([1, 1, 2]))
    out_size = max(1, size // stride)
    config = {
        "bias": False,
        "dilation": [1, 1],
        "groups": 1,
        "in_channels": channels,
        "kernel_size": [kernel, kernel],
        "out_channels": out_channels,
        "padding": [kernel // 2] * 2,
        "stride": [stride, stride],
        "input_shapes": [[batch, channels, size, size]],
        "output_shape": [batch, out_channels, out_size, out_size],
    }
    flops = batch * out_channels * out_size * out_size * channels * kernel * kernel
    weight = out_channels * channels * kernel * kernel * 4
    return "conv2d", config, flops, weight, out_channels, out_size


def _elementwise(op, batch, channels, size):
    config = {"input_shapes": [[batch, channels, size, size]], "output_shape": [batch, channels, size, size]}
    return op, config, batch * channels * size * size, 0, channels, size


def _pool(batch, channels, size):
    out_size = max(1, size // 2)
    config = {
        "kernel_size": 2,
        "stride": 2,
        "padding": 0,
        "input_shapes": [[batch, channels, size, size]],
        "output_shape": [batch, channels, out_size, out_size],
    }
    return "maxpool2d", config, batch * channels * out_size * out_size * 4, 0, channels, out_size


def _linear(batch, features, out_features):
    config = {
        "bias": True,
        "in_features": features,
        "out_features": out_features,
        "input_shapes": [[batch, features]],
        "output_shape": [batch, out_features],
    }
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
        records.append(
            LayerRecord(
                op,
                json.dumps(config, sort_keys=True, separators=(",", ":")),
                float(flops),
                4.0 * elements_in,
                4.0 * elements_out,
                float(weight),
            )
        )
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


def synthetic_frame(
    n_networks=40,
    batch_sizes=(1, 4),
    seed=0,
    layer_noise=0.0,
    network_noise=0.0,
    device=DEVICE,
    with_power=False,
    families=FAMILIES,
    network_factor=NETWORK_FACTOR,
    overhead_ms=OVERHEAD_MS,
    ms_per_output_mb=0.0,
) -> pd.DataFrame:
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
                rows.append(
                    _row(
                        "layer", model, batch, i, f"layer{i}", record, latency, power[i] if with_power else None, device
                    )
                )
            fresh_mb = sum(r.output_bytes for r in records) / 1e6
            network_ms = (
                network_factor * np.exp(true_log).sum() + overhead_ms * len(records) + ms_per_output_mb * fresh_mb
            ) * float(np.exp(rng.normal(0, network_noise)))
            total = LayerRecord("network", "{}", sum(r.flops for r in records), 0.0, 0.0, 0.0)
            network_power = float(np.sum(np.exp(true_log) * power) / np.exp(true_log).sum()) if with_power else None
            rows.append(_row("network", model, batch, -1, "", total, network_ms, network_power, device))
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def _row(kind, model, batch, index, name, record, latency, power, device):
    return {
        "kind": kind,
        "model": model,
        "batch_size": batch,
        "device": "cpu",
        "device_name": device,
        "layer_index": index,
        "layer_name": name,
        "op": record.op,
        "config": record.config,
        "flops": int(record.flops),
        "params": int(record.weight_bytes // 4),
        "input_bytes": int(record.input_bytes),
        "output_bytes": int(record.output_bytes),
        "weight_bytes": int(record.weight_bytes),
        "latency_ms": float(latency),
        "latency_ms_ci_low": float(latency) * 0.99,
        "latency_ms_ci_high": float(latency) * 1.01,
        "latency_ms_std": float(latency) * 0.01,
        "samples": 10,
        "iterations": 100,
        "stable": True,
        "power_w": power,
        "idle_power_w": 5.0 if power is not None else None,
        "energy_mj": power * float(latency) if power is not None else None,
        "power_source": "synthetic" if power is not None else "none",
    }


def write(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path) if str(path).endswith(".parquet") else frame.to_csv(path, index=False)
    return str(path)


# one run's provenance, at 1 thread, float32, contiguous, layers timed cold: what a predictor's conditions come from
ONE_RUN = {
    "run_id": "run1",
    "device": "cpu",
    "device_name": DEVICE,
    "threads": 1,
    "execution": {"dtype": "float32", "channels_last": False, "compile": False},
    "cache": {"mode": "cold"},
}


def predictor_of_one_run(directory):
    """The path of a predictor fitted, without cross-validation, on ten synthetic networks of ONE_RUN."""
    from hwprof.fitting.fit import fit

    dataset = write(synthetic_frame(n_networks=10, seed=3).assign(run_id="run1"), directory / "one.parquet")
    (directory / "one.parquet.json").write_text(json.dumps({"schema_version": 1, "runs": [ONE_RUN]}))
    fit([dataset], out=directory / "predictor.json", family="polynomial", cv=False)
    return directory / "predictor.json"


def predictor_of_network_rows(directory):
    """The path of a predictor of three network rows alone (mlp at batch 1 and 2, mlp_large at 1), whose data
    recorded no thread count, dtype, layout or cache mode."""
    from hwprof.fitting.fit import fit

    (directory / "nets.csv").write_text("model,batch_size,latency_ms\nmlp,1,1.0\nmlp,2,1.5\nmlp_large,1,3.0\n")
    fit([directory / "nets.csv"], out=directory / "nets.json", cv=False)
    return directory / "nets.json"


def fitted_before(predictor, definition: str):
    """The predictor as a file fitted before the feature `definition` existed reads: its document without it."""
    doc = json.loads(json.dumps(predictor.doc))
    del doc["features"][definition]
    return type(predictor)(doc)


# --- the planted law is recovered -----------------------------------------------------------


_fitted: dict = {}  # fitted predictors, shared by the tests of one session


def fitted_predictor_path(tmp_dir, family="polynomial", n_networks=15, seed=5, cv=True, **noise):
    """A predictor fitted once per process on a noisy synthetic dataset, and its dataset's path."""
    import pathlib

    from hwprof.fitting.fit import fit

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
    records = [
        LayerRecord(r.op, r.config, r.flops, r.input_bytes, r.output_bytes, r.weight_bytes) for r in conv.itertuples()
    ]
    variables = list(BASE_VARIABLES)
    return (
        variables,
        encode_layers(records, variables),
        np.log(conv["latency_ms"].to_numpy()),
        conv["model"].str.split("_").str[0].to_numpy(),
    )


def relus_as(frame: pd.DataFrame, op: str, config_of, slowdown: float, suffix: str) -> pd.DataFrame:
    """`frame` with its ReLUs made `op` layers of the configs `config_of(relu_config)` gives, `slowdown` times as
    slow (each network slower by NETWORK_FACTOR times the time its layers added), each model named with `suffix`:
    a law planted in a setting, for a predictor to find or to call new."""
    copy = frame.copy()
    relu = (copy["op"] == "relu").to_numpy()
    copy.loc[relu, "op"] = op
    copy.loc[relu, "config"] = [
        json.dumps(config_of(json.loads(config)), sort_keys=True) for config in copy.loc[relu, "config"]
    ]
    added = copy.loc[relu, "latency_ms"] * (slowdown - 1)
    copy.loc[relu, "latency_ms"] *= slowdown
    per_network = added.groupby([copy.loc[relu, "model"], copy.loc[relu, "batch_size"]]).sum()
    networks = copy["kind"] == "network"
    keys = list(zip(copy.loc[networks, "model"], copy.loc[networks, "batch_size"]))
    copy.loc[networks, "latency_ms"] += NETWORK_FACTOR * np.array([per_network.get(key, 0.0) for key in keys])
    for column, share in (("latency_ms_ci_low", 0.99), ("latency_ms_ci_high", 1.01), ("latency_ms_std", 0.01)):
        copy[column] = copy["latency_ms"] * share
    copy["model"] = copy["model"] + suffix
    return copy


def refused_when_loaded(doc: dict, folder, damage, reason: str) -> None:
    """`doc` damaged by `damage` and saved under `folder` is refused by load_predictor in one sentence, the reason
    in its brackets matching `reason`."""
    import pytest

    import hwprof
    from hwprof.errors import HwprofError

    damaged = json.loads(json.dumps(doc))
    damage(damaged)
    path = folder / "damaged.json"
    path.write_text(json.dumps(damaged))
    with pytest.raises(HwprofError, match=rf"{path} is a damaged predictor file \({reason}\); refit it"):
        hwprof.load_predictor(path)
