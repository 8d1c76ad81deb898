"""From three runs on, power and energy targets are medians as latency's is, so energy stays power x latency."""

import numpy as np
import pandas as pd

from fakes.synthetic import DEVICE, synthetic_frame
from hwprof.fitting.data import training_data


def _runs(factors, seed):
    """One dataset rerun at these latency factors, every run at the same power (energy follows latency)."""
    frame = synthetic_frame(n_networks=3, seed=seed, with_power=True)
    scaled = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "energy_mj"]
    runs = [frame.assign(run_id=f"run{i}", **{c: frame[c] * f for c in scaled}) for i, f in enumerate(factors)]
    return frame, pd.concat(runs, ignore_index=True)


def test_one_slow_run_of_three_moves_neither_energy_nor_power():
    frame, runs = _runs((1.0, 2.0, 10.0), seed=60)
    clean = training_data(frame, DEVICE, align=False)
    combined = training_data(runs, DEVICE, align=False)
    assert np.allclose(combined.targets["latency_ms"], clean.targets["latency_ms"] * 2.0)
    assert np.allclose(combined.targets["energy_mj"], clean.targets["energy_mj"] * 2.0)  # the mean gave 4.33x
    assert np.allclose(combined.targets["power_w"], clean.targets["power_w"])
    implied = combined.targets["energy_mj"] / combined.targets["latency_ms"]
    assert np.allclose(implied, combined.targets["power_w"])


def test_two_runs_keep_their_precision_weighted_mean():
    frame, runs = _runs((1.0, 3.0), seed=61)
    clean = training_data(frame, DEVICE, align=False)
    combined = training_data(runs, DEVICE, align=False)
    assert np.allclose(combined.targets["energy_mj"], clean.targets["energy_mj"] * 2.0)


def test_a_layers_power_from_three_runs_is_their_median_too():
    frame = synthetic_frame(n_networks=3, seed=62, with_power=True)
    layers = frame["kind"] == "layer"
    runs = pd.concat(
        [
            frame.assign(run_id=f"run{i}", power_w=frame["power_w"].where(~layers, frame["power_w"] * f))
            for i, f in enumerate((1.0, 1.0, 3.0))
        ],
        ignore_index=True,
    )
    clean = training_data(frame, DEVICE, align=False).layers
    combined = training_data(runs, DEVICE, align=False).layers
    assert np.allclose(combined["power_w"], clean["power_w"])  # their mean was 5/3 of it
