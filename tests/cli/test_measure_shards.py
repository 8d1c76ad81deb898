"""`hwprof measure --device cuda:0,cuda:1`: a shard per device in parallel, merged (CPU stand-ins here)."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main, shards
from hwprof.errors import HwprofError

FAST = ["--power", "none", "--precision", "0.3", "--max-time", "0.2", "--seed", "0", "--no-layers"]


def test_devices_paths_and_shard_commands():
    assert shards.parse_devices("cuda:0, cuda:1") == ["cuda:0", "cuda:1"]
    with pytest.raises(HwprofError, match="names cuda:1 more than once"):
        shards.parse_devices("cuda:1,cuda:1")
    for text in ("cpu,", ",cpu", "cuda:0,,cuda:1"):
        with pytest.raises(HwprofError, match="has an empty device in its list"):
            shards.parse_devices(text)
    assert shards.shard_path("runs/h100.parquet", "cuda:1") == "runs/h100.cuda1.parquet"
    assert shards.shard_path("out.csv", "cuda:0") == "out.cuda0.csv"
    assert shards.shard_argv(["mlp", "--seed", "1"], "cuda:1", "o.cuda1.parquet", 4) == [
        "mlp", "--seed", "1", "--device", "cuda:1", "--out", "o.cuda1.parquet", "--threads", "4", "--quiet"
    ]  # fmt: skip
    assert shards.shard_threads(None, 64) == 1 and shards.shard_threads(3, 2) == 3


def test_several_gpus_without_cuda_is_one_sentence_before_any_shard(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(shards, "run_shards", lambda jobs, echo: started.append(jobs))
    result = CliRunner().invoke(main, ["measure", "mlp", "--device", "cuda:0,cuda:1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no CUDA device" in result.output and "Traceback" not in result.output
    assert not started


@pytest.mark.slow
def test_shards_run_in_parallel_and_are_merged(tmp_path, monkeypatch):
    """The CLI path with two GPU names, each shard run on the CPU as a stand-in for its GPU."""
    monkeypatch.setattr(shards, "check_devices", lambda devices: None)
    real_argv = shards.shard_argv
    monkeypatch.setattr(shards, "shard_argv", lambda args, device, out, threads: real_argv(args, "cpu", out, 1))
    running = []
    real_run = shards.run_shards

    def watched(jobs, echo):
        codes = real_run(jobs, echo)
        running.append(len(jobs))
        return codes

    monkeypatch.setattr(shards, "run_shards", watched)
    out = tmp_path / "fleet.parquet"
    args = ["measure", "mlp", "--device", "cuda:0,cuda:1", "--out", str(out), "--json", *FAST]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["shards"] == {
        "cuda:0": str(tmp_path / "fleet.cuda0.parquet"),
        "cuda:1": str(tmp_path / "fleet.cuda1.parquet"),
    }
    merged = pd.read_parquet(out)
    assert len(merged) == 2 and merged["run_id"].nunique() == 2  # one network row per shard, two runs
    assert running == [2]
    for path in summary["shards"].values():
        assert len(pd.read_parquet(path)) == 1


def test_a_failing_shard_is_named_and_the_others_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "check_devices", lambda devices: None)
    monkeypatch.setattr(shards, "run_shards", lambda jobs, echo: {"cuda:0": 0, "cuda:1": 1})
    result = CliRunner().invoke(main, ["measure", "mlp", "--device", "cuda:0,cuda:1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "shard on cuda:1 (exit status 1) failed" in result.output
    assert "--resume" in result.output


def test_every_option_given_reaches_each_shard(tmp_path, monkeypatch):
    jobs_seen = []
    monkeypatch.setattr(shards, "check_devices", lambda devices: None)
    monkeypatch.setattr(shards, "run_shards", lambda jobs, echo: jobs_seen.extend(jobs) or {"cuda:0": 1, "cuda:1": 1})
    args = ["measure", "m.py:f", "--device", "cuda:0,cuda:1", "--out", str(tmp_path / "o.parquet"), "--cache", "warm"]
    args += ["--input", "ids:int64[seq]", "--input", "mask:int64[seq]", "--no-layers", "--batch-size", "1,8"]
    CliRunner().invoke(main, args)
    device, shard_args = jobs_seen[1]
    assert device == "cuda:1" and shard_args[0] == "m.py:f"
    for given in (["--cache", "warm"], ["--batch-size", "1,8"], ["--device", "cuda:1"], ["--no-layers"]):
        assert any(shard_args[i : i + len(given)] == given for i in range(len(shard_args)))
    assert [shard_args[i + 1] for i, a in enumerate(shard_args) if a == "--input"] == [
        "ids:int64[seq]",
        "mask:int64[seq]",
    ]


def test_run_shards_starts_every_process_before_waiting(monkeypatch):
    events = []

    class Process:
        def __init__(self, command, stdout):
            events.append(("start", command[-1]))

        def wait(self):
            events.append(("wait", None))
            return 0

    monkeypatch.setattr(shards.subprocess, "Popen", Process)
    codes = shards.run_shards([("cuda:0", ["a"]), ("cuda:1", ["b"])], echo=lambda text: None)
    assert codes == {"cuda:0": 0, "cuda:1": 0}
    assert [e[0] for e in events] == ["start", "start", "wait", "wait"]
