"""`hwprof show` of merged reruns: every figure of a network is the median of its runs', as fit and compare
combine them (not the lower run's for an even count), and its counts are of the layers and network it shows."""

import json

import pytest
from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.cli.measure import summarize_frame
from hwprof.dataset import merge_datasets, read_dataset, read_provenance

ONE_RUN_MS = sum(1e-1 * (index + 3) for index in range(LAYERS))  # write_run's layer medians at factor 1
NETWORK_MS = 0.2  # write_run's network median at factor 1


@pytest.fixture
def two_reruns(tmp_path):
    shards = [
        write_run(tmp_path / "a.parquet", factor=1.0, seed=1, threads=1, power_w=10.0),
        write_run(tmp_path / "b.parquet", factor=1.6, seed=2, threads=1, power_w=10.0),
    ]
    merged = tmp_path / "reruns.parquet"
    merge_datasets(shards, merged)
    return merged


def test_two_reruns_show_the_median_of_their_figures_not_the_lower_runs(two_reruns):
    (entry,) = json.loads(CliRunner().invoke(main, ["show", str(two_reruns), "--json"]).output)["networks"]
    assert entry["network_runs"] == 2 and entry["layers"] == LAYERS
    assert entry["latency_ms"] == pytest.approx(1.3 * NETWORK_MS, rel=0.03)
    assert entry["sum_of_layers_ms"] == pytest.approx(1.3 * ONE_RUN_MS, rel=0.03)
    assert entry["energy_mj"] == pytest.approx(10.0 * entry["latency_ms"], rel=0.03)
    assert entry["latency_ms_ci_low"] is None and entry["latency_ms_ci_high"] is None  # no one run's interval
    table = CliRunner().invoke(main, ["show", str(two_reruns)], env={"COLUMNS": "250"}).output
    assert "- (median of 2 runs)" in table and f"{entry['latency_ms']:.3f}" in table


def test_counts_of_reruns_count_each_layer_and_the_network_once(two_reruns):
    frame = read_dataset(two_reruns)
    first_layer = frame["kind"].eq("layer") & frame["layer_index"].eq(0)
    frame.loc[first_layer, "stable"] = False  # in both runs
    frame.loc[frame["kind"].eq("network"), "other_cpu_share"] = [0.5, 0.0]  # in one run
    (entry,) = summarize_frame(frame, None, read_provenance(two_reruns))["networks"]
    assert entry["unstable_rows"] == 1 and entry["contended_rows"] == 1
    assert entry["unstable_rows"] <= entry["layers"] + 1
