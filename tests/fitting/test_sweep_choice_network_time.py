"""An op's own model keeps its layer sweep unless leaving it out predicts the held-out families' share of network
time better: a few large layers repeated in a network make its latency, many tiny configurations do not.

Scored one row per configuration, a linear model dropped its sweep for the tiny configurations' sake, and
the held-out networks' large linears, most of their time, were predicted from the other families' sizes alone."""

from types import SimpleNamespace

import numpy as np
import pandas as pd

from hwprof.fitting.layers import WITHOUT_SWEEPS, fit_op_model
from hwprof.fitting.pipeline import _network_time_shares
from hwprof.models.spec import SWEEP_FAMILY
from hwprof.predictor.features import LayerRecord, NetworkBatch

LARGE_FLOPS = {"alpha": (1e8, 2e8), "beta": (4e8, 8e8), "gamma": (1.5e9, 3e9)}
REPEATS = 12  # each large layer's count in its network, as a transformer's blocks repeat its linears
TINY_SLOWER = 1.25  # tiny layers in the networks run this much slower than the law (dispatch between layers)


def law_ms(flops: np.ndarray) -> np.ndarray:
    return 0.002 + flops / 1e6


def _rows():
    """Per family two large layers on the law and six tiny ones off it; a sweep on the law over every size."""
    rng = np.random.default_rng(0)
    family, flops, latency_ms, count = [], [], [], []
    for name, sizes in LARGE_FLOPS.items():
        tiny = np.geomspace(1e3, 1e5, 6) * rng.uniform(0.8, 1.25, 6)
        family += [name] * 8
        flops += [*sizes, *tiny]
        latency_ms += [*law_ms(np.array(sizes)), *(law_ms(tiny) * TINY_SLOWER)]
        count += [REPEATS, REPEATS] + [1] * 6
    sweep = np.geomspace(1e3, 3e9, 30)
    family += [SWEEP_FAMILY] * len(sweep)
    flops += list(sweep)
    latency_ms += list(law_ms(sweep))
    count += [0] * len(sweep)
    return np.array(family), np.array(flops), np.array(latency_ms), np.array(count, dtype=float)


def test_an_ops_model_keeps_the_sweep_that_predicts_the_held_out_networks_time():
    family, flops, latency_ms, count = _rows()
    share = np.zeros(len(family))
    for name in LARGE_FLOPS:
        own = family == name
        share[own] = count[own] * latency_ms[own] / np.sum(count[own] * latency_ms[own])
    z = np.log1p(np.column_stack([flops, flops / 2]))
    y = np.log(latency_ms)
    sweeps = family == SWEEP_FAMILY
    fitted = {}
    for weighed in (None, share):
        fitted[weighed is None] = fit_op_model(
            z,
            y,
            family,
            ["flops", "bytes_total"],
            [0, 1],
            "auto",
            np.full(len(y), 0.02),
            sweeps,
            True,
            True,
            None,
            weighed,
        )
    (kept, oof), (dropped, _) = fitted[False], fitted[True]
    # one row per configuration, the tiny ones win without the sweep; by the networks' time, the sweep stays
    assert dropped.cv["family"].endswith(WITHOUT_SWEEPS)
    assert not kept.cv["family"].endswith(WITHOUT_SWEEPS)
    large = count == REPEATS
    assert np.all(np.abs(np.exp(oof[large] - y[large]) - 1) < 0.04)  # without the sweep: up to 5.1% off


def test_a_configurations_share_of_network_time_counts_its_repeats_and_each_network_once():
    def record(op: str, flops: float) -> LayerRecord:
        return LayerRecord(op, f'{{"flops": {flops}}}', flops, 1.0, 1.0, 0.0)

    big, small, other = record("linear", 1e9), record("linear", 1e3), record("relu", 1e4)
    networks = NetworkBatch.from_layer_lists(["a", "b"], [1, 1], [[big] * 3 + [small], [small, other]])
    layers = pd.DataFrame(
        {
            "op": ["linear", "linear", "relu", "linear"],
            "config": [big.config, small.config, other.config, '{"flops": 5}'],  # the last: a sweep's
            "latency_ms": [3.0, 1.0, 1.0, 0.5],
        }
    )
    shares = _network_time_shares(SimpleNamespace(layers=layers, networks=networks), np.array([True, True]))
    assert np.allclose(shares, [0.9, 0.1 + 0.5, 0.5, 0.0])
    only_b = _network_time_shares(SimpleNamespace(layers=layers, networks=networks), np.array([False, True]))
    assert np.allclose(only_b, [0.0, 0.5, 0.5, 0.0])
