"""`measure --resume` on a dataset from before runs recorded their plan still checks what its provenance
tells: the board and host, the threads, and the cache mode (warm, as every run of that time was)."""

import json

import pytest
from click.testing import CliRunner

from fakes.sysfs import on_board
from hwprof.cli import main
from hwprof.dataset import read_dataset

FAST = ["--power", "none", "--max-time", "0.3", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]
# what a run's provenance held before plans, cache modes and execution settings were recorded
LATER_KEYS = ("plan", "cache", "execution", "allow_tf32", "cudnn_benchmark", "float32_matmul_precision", "contention")


def measure(out, *extra):
    return CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST, *extra])


@pytest.fixture
def old_shard(tmp_path, monkeypatch):
    on_board(monkeypatch, tmp_path, "board-b")
    out = tmp_path / "old.csv"  # its provenance in the sidecar only
    assert measure(out, "--cache", "warm").exit_code == 0
    sidecar = out.with_name(out.name + ".json")
    record = json.loads(sidecar.read_text())
    for run in record["runs"]:
        for key in LATER_KEYS:
            run.pop(key, None)
    sidecar.write_text(json.dumps(record))
    return out


def test_an_old_shard_is_not_resumed_on_another_board(old_shard, tmp_path, monkeypatch):
    before = old_shard.read_bytes()
    on_board(monkeypatch, tmp_path, "board-a")
    result = measure(old_shard, "--resume", "--cache", "warm")
    assert result.exit_code == 1 and "Fake CPU of board-b" in result.output and "another path" in result.output
    assert old_shard.read_bytes() == before
    assert read_dataset(old_shard)["device_name"].unique().tolist() == ["Fake CPU of board-b"]


def test_an_old_warm_shard_resumes_warm_only_and_with_its_threads(old_shard):
    before = old_shard.read_bytes()
    result = measure(old_shard, "--resume")  # cold, today's default
    assert result.exit_code == 1 and "other cache (" in result.output and "cache=warm" in result.output, result.output
    result = measure(old_shard, "--resume", "--cache", "warm", "--threads", "2")
    assert result.exit_code == 1 and "other threads (" in result.output, result.output
    assert old_shard.read_bytes() == before
    assert measure(old_shard, "--resume", "--cache", "warm").exit_code == 0
