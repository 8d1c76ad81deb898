"""`hwprof show` of merged runs: runs at different thread counts apart, and each network's figure and its layer
sum taken from one and the same run."""

import json

import pytest
from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.dataset import merge_datasets

ONE_RUN_MS = sum(1e-1 * (index + 3) for index in range(LAYERS))  # write_run's layer medians at factor 1


def show(path, *args):
    return CliRunner().invoke(main, ["show", str(path), *args], env={"COLUMNS": "200"})


def test_runs_at_two_thread_counts_are_shown_apart_not_as_the_median_of_two(tmp_path):
    shards = [
        write_run(tmp_path / "t1.parquet", factor=1.0, seed=1, threads=1),
        write_run(tmp_path / "t2.parquet", factor=0.6, seed=2, threads=2),
    ]
    merged = tmp_path / "tt.parquet"
    merge_datasets(shards, merged)
    entries = json.loads(show(merged, "--json").output)["networks"]
    by_threads = {entry["threads"]: entry for entry in entries}
    assert sorted(by_threads) == [1, 2] and all(entry["network_runs"] == 1 for entry in entries)
    assert by_threads[1]["sum_of_layers_ms"] == pytest.approx(ONE_RUN_MS, rel=0.05)
    assert by_threads[2]["sum_of_layers_ms"] == pytest.approx(0.6 * ONE_RUN_MS, rel=0.05)
    table = show(merged).output
    assert "net 1 thread(s)" in table and "net 2 thread(s)" in table and "median of 2 runs" not in table


def test_an_even_number_of_reruns_gives_the_network_and_its_layer_sum_of_one_run(tmp_path):
    shards = [
        write_run(tmp_path / "a.parquet", factor=1.0, seed=1, threads=1),
        write_run(tmp_path / "b.parquet", factor=1.2, seed=2, threads=1),
    ]
    merged = tmp_path / "reruns.parquet"
    merge_datasets(shards, merged)
    (entry,) = json.loads(show(merged, "--json").output)["networks"]
    assert entry["network_runs"] == 2
    shown_run = entry["latency_ms"] / (1e-1 * 2)  # the network row's factor: 1.0 or 1.2
    assert entry["sum_of_layers_ms"] == pytest.approx(shown_run * ONE_RUN_MS, rel=0.05)
