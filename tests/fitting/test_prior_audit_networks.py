"""fit --prior counts networks, not rows (a network at batch 1 and 4 is one), and its leave-one-out holds out a
network's rows together."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit

LATENCY_COLUMNS = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"]


def new_board(factors: dict[str, float]) -> pd.DataFrame:
    """The fleet board's networks named in `factors`, each that many times slower, at batch 1 and 4."""
    frame = synthetic_frame(n_networks=10, seed=4, device="new", layer_noise=0.02, network_noise=0.02)
    frame = frame[frame["model"].isin(factors)].copy()
    frame[LATENCY_COLUMNS] = frame[LATENCY_COLUMNS].mul(frame["model"].map(factors), axis=0)
    return frame


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    frame = synthetic_frame(n_networks=10, seed=4, device="fast", layer_noise=0.02, network_noise=0.02)
    return write(frame, tmp_path_factory.mktemp("fleet") / "fleet.parquet")


def test_two_networks_at_two_batch_sizes_are_two_networks_not_enough(fleet, tmp_path):
    two = write(new_board({"alpha_0": 1.7, "beta_1": 1.7}), tmp_path / "two.parquet")
    with pytest.raises(HwprofError, match=r"at least 3 networks; the datasets give 2 network\(s\) \(4 rows\)"):
        fit([two], prior=[fleet], cv=False)


def test_the_summary_counts_networks_and_rows_apart(fleet, tmp_path):
    names = ["alpha_0", "beta_1", "gamma_2", "delta_3", "epsilon_4"]
    five = write(new_board(dict.fromkeys(names, 1.7)), tmp_path / "five.parquet")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(main, ["fit", five, "--prior", fleet, "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "fitted latency predictor for new from 5 network(s) (10 rows) of its own and a prior of 1 board(s)" in said
    assert "leave-one-out scale over 5 network(s) (10 rows)" in said
    assert pd.read_json(out, typ="series")["training"]["prior"]["boards"][0]["networks"] == 5


def test_the_scale_s_leave_one_out_holds_out_every_batch_size_of_a_network(fleet):
    from hwprof.fitting.data import read_inputs, training_data
    from hwprof.fitting.prior import _latency, adapt_from_fleet, fleet_predictors

    frame, sources = read_inputs([fleet])
    predictors = fleet_predictors(frame, sources, "polynomial")
    factors = {"alpha_0": 1.2, "beta_1": 1.7, "gamma_2": 2.6}  # three networks, far apart
    data = training_data(new_board(factors), "new")
    prior = adapt_from_fleet(data, predictors, "polynomial", cv=False).doc["training"]["prior"]
    r = np.log(data.targets["latency_ms"] / _latency(predictors["fast"], data.networks))
    names = np.asarray(data.networks.names)
    held_out = [r[i] - np.median(r[names != names[i]]) for i in range(len(r))]
    assert prior["leave_one_out_log_rmse"]["scaled"] == pytest.approx(np.sqrt(np.mean(np.square(held_out))))
