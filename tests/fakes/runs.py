"""Synthetic measurement runs with raw samples and a planted shift, for `hwprof compare`.

Each row's samples are lognormal around a known median, so a run made with
`factor=1.10` is exactly 10% slower in distribution, and `sigma` sets how noisy
the samples are; the rows' figures are the samples' own medians, as `measure`
writes them.
"""

from __future__ import annotations

import json
import statistics
import uuid

import numpy as np

from hwprof.dataset import DatasetWriter
from hwprof.samples import RawSamples
from hwprof.schema import SCHEMA_VERSION

LAYERS = 8
DEVICE_NAME = "Synthetic CPU"


def worker_row(kind, index, name, op, latency_ms, iterations=100, discarded=0) -> dict:
    """A row of one measuring process's dataset (--processes), every figure given or fixed: its interval +-1%."""
    return {
        "kind": kind,
        "model": "mlp",
        "batch_size": 1,
        "device": "cpu",
        "device_name": "test cpu",
        "layer_index": index,
        "layer_name": name,
        "op": op,
        "config": "{}",
        "flops": 10,
        "params": 0,
        "input_bytes": 4,
        "output_bytes": 4,
        "weight_bytes": 0,
        "latency_ms": latency_ms,
        "latency_ms_ci_low": latency_ms * 0.99,
        "latency_ms_ci_high": latency_ms * 1.01,
        "latency_ms_std": latency_ms * 0.02,
        "samples": 20,
        "iterations": iterations,
        "stable": True,
        "measure_s": 1.0,
        "other_cpu_share": 0.01,
        "discarded_bursts": discarded,
        "processes": 1,
        "config_id": f"c{index}",
    }


def minimal_layer_row(index: int) -> dict:
    """A layer row with only what a dataset requires, for tests of the files rather than of the figures."""
    return {
        "kind": "layer",
        "model": "mlp",
        "batch_size": 1,
        "device": "cpu",
        "device_name": "test cpu",
        "layer_index": index,
        "layer_name": str(index),
        "op": "linear",
        "config": "{}",
        "latency_ms": 1.0 + index,
        "samples": 3,
        "iterations": 10,
        "config_id": f"c{index}",
    }


def minimal_command_row(argv: list[str]) -> dict:
    """A row `hwprof run` writes for a command, with only what a dataset requires."""
    return {
        **minimal_layer_row(0),
        "kind": "command",
        "model": " ".join(argv),
        "batch_size": None,
        "layer_index": -1,
        "op": "command",
        "config_id": None,
        "config": json.dumps({"argv": argv, "exit_status": 0}),
    }


def synthetic_row(model, index, samples_s, device_name=DEVICE_NAME, power_w=None):
    """A network row (index -1) or layer row whose figures are those of `samples_s` (seconds)."""
    latency_ms = statistics.median(samples_s) * 1e3
    network = index < 0
    config = {"input_shape": [1, 3, 8, 8]} if network else {"out_features": 8 * (index + 1)}
    row = {
        "kind": "network" if network else "layer",
        "model": model,
        "batch_size": 1,
        "device": "cpu",
        "device_name": device_name,
        "layer_index": -1 if network else index,
        "layer_name": model if network else f"layers.{index}",
        "op": "network" if network else "linear",
        "config": json.dumps(config, sort_keys=True),
        "flops": 1000,
        "params": 10,
        "input_bytes": 4,
        "output_bytes": 4,
        "weight_bytes": 40,
        "latency_ms": latency_ms,
        "latency_ms_ci_low": min(samples_s) * 1e3,
        "latency_ms_ci_high": max(samples_s) * 1e3,
        "latency_ms_std": statistics.stdev(samples_s) * 1e3,
        "samples": len(samples_s),
        "iterations": 10,
        "stable": True,
        "config_id": None if network else f"{model}-cfg{index}",
    }
    if power_w is not None:
        row.update(power_w=power_w, energy_mj=power_w * latency_ms, power_source="fake")
    return row


def write_run(
    path,
    factor=1.0,
    sigma=0.02,
    samples=40,
    seed=0,
    models=("net",),
    device_name=DEVICE_NAME,
    power_w=None,
    with_samples=True,
    threads=None,
    provenance_fields=None,
):
    """A dataset at `path`: per model a network row and LAYERS layer rows, medians from 0.1 ms up, times `factor`;
    `provenance_fields` (such as host or torch) join its run's provenance."""
    rng = np.random.default_rng(seed)
    provenance = {"run_id": uuid.uuid4().hex, "schema_version": SCHEMA_VERSION, **(provenance_fields or {})}
    if threads is not None:
        provenance["threads"] = threads
    with DatasetWriter(path, provenance) as writer:
        for model in models:
            for index in range(-1, LAYERS):
                median_s = 1e-4 * (index + 3) * factor
                drawn = tuple(float(x) for x in median_s * np.exp(rng.normal(0.0, sigma, samples)))
                raw = RawSamples.uniform(drawn, 10) if with_samples else None
                writer.write([synthetic_row(model, index, drawn, device_name, power_w)], raw)
    return path
