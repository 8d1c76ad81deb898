"""show (and measure's end-of-run summary) on a dataset of hundreds of networks: a summary, in seconds."""

import json
import time

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.cli.measure import summarize_frame
from hwprof.dataset import read_dataset

LAYER_TABLES = 8  # networks whose slowest layers get a table
NETWORK_ROWS = 50  # rows of the networks table


def show(path, *args):
    result = CliRunner().invoke(main, ["show", str(path), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_large_dataset_shows_its_slowest_networks_and_says_json_lists_every_one(tmp_path):
    frame = synthetic_frame(n_networks=60, batch_sizes=(1,), seed=3)
    path = write(frame, tmp_path / "many.parquet")
    text = show(path)
    assert text.count(": slowest layers") == LAYER_TABLES
    assert f"slowest layers of the other {60 - LAYER_TABLES} networks (the {LAYER_TABLES} slowest are above)" in text
    table = text.split("--json lists them")[-1]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert len(rows) == NETWORK_ROWS
    assert f"… {60 - NETWORK_ROWS} more networks (the {NETWORK_ROWS} slowest are above): --json lists every one" in text
    networks = frame[frame["kind"] == "network"]
    slowest = networks.nlargest(NETWORK_ROWS, "latency_ms")["model"]
    assert {row.split("│")[1].strip() for row in rows} == set(slowest)
    assert len(json.loads(show(path, "--json"))["networks"]) == 60


def test_a_run_of_a_few_networks_shows_every_one_and_their_slowest_layers(tmp_path):
    text = show(write(synthetic_frame(n_networks=3, batch_sizes=(1, 4)), tmp_path / "few.parquet"))
    assert text.count(": slowest layers") == 6
    assert "more networks" not in text and "slowest layers of the other" not in text


def test_summarize_frame_takes_the_networks_together_not_a_frame_each(tmp_path):
    synthetic = synthetic_frame(n_networks=200, batch_sizes=(1, 4), seed=4)  # 400 networks: 10 s by a frame each
    frame = read_dataset([write(synthetic, tmp_path / "many.parquet")])
    start = time.perf_counter()
    summary = summarize_frame(frame)
    assert time.perf_counter() - start < 2
    assert len(summary["networks"]) == 400
