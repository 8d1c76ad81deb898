"""`hwprof run -- CMD`: a command's time, energy and idle baseline, its exit status passed through."""

import json
import os
import signal
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.processes import signalled_run
from fakes.sysfs import FakeRaplTree, FakeZone, stopping_tegrastats
from hwprof.cli import main
from hwprof.dataset import read_dataset, read_provenance
from hwprof.traces import read_trace

SLEEP_08 = [sys.executable, "-c", "import time; time.sleep(0.8)"]


def run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args)])


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.slow
def test_a_command_on_a_fake_rapl_counter_at_42_w_gets_42_w_and_its_idle_baseline(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)]):
        result = run("--power", "rapl", "--out", out, "--trace", "--", *SLEEP_08)
    assert result.exit_code == 0, result.output
    row = read_dataset(out).iloc[0]
    assert (row["kind"], row["op"], row["power_source"]) == ("command", "command", "rapl:package-0")
    assert row["latency_ms"] == pytest.approx(800, abs=300)  # the sleep plus the interpreter's start
    assert row["power_w"] == pytest.approx(42.0, rel=0.02)
    assert row["idle_power_w"] == pytest.approx(42.0, rel=0.02)
    assert row["energy_mj"] == pytest.approx(42.0 * row["latency_ms"], rel=0.02)
    assert abs(row["dynamic_energy_mj"]) < 0.04 * row["energy_mj"]  # constant power: nothing above idle
    assert json.loads(row["config"])["exit_status"] == 0
    assert read_provenance(out)[0]["command"] == SLEEP_08
    assert "exited with status 0" in result.stderr and "energy" in result.stderr
    trace = read_trace(tmp_path / "runs.trace.parquet")
    assert trace["window"].drop_duplicates().tolist() == ["idle", "load"]
    report = CliRunner().invoke(main, ["report", str(out), "--out", str(tmp_path / "r.html"), "--json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.output)["traces"] == [str(tmp_path / "runs.trace.parquet")]
    assert '<section id="commands">' in (tmp_path / "r.html").read_text()


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.slow
def test_a_command_too_short_for_the_sensor_gets_no_energy_and_says_why(sysfs_root, tmp_path):
    out = tmp_path / "runs.csv"
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)]):
        result = run("--power", "rapl", "--idle-s", "0", "--out", out, "--", sys.executable, "-c", "pass")
    assert result.exit_code == 0, result.output
    row = read_dataset(out).iloc[0]
    assert pd.isna(row["energy_mj"]) and pd.isna(row["power_w"]) and "short_window" in row["power_flags"]
    assert "too short for rapl:package-0" in result.stderr


def test_the_exit_status_is_the_commands_and_rows_are_appended(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    failing = run("--out", out, "--", sys.executable, "-c", "import sys; sys.exit(3)")
    assert failing.exit_code == 3, failing.output
    passing = run("--out", out, "--json", "--", sys.executable, "-c", "pass")
    assert passing.exit_code == 0, passing.output
    frame = read_dataset(out)
    assert [json.loads(c)["exit_status"] for c in frame["config"]] == [3, 0]
    assert len(read_provenance(out)) == 2 and (frame["latency_ms"] > 0).all()
    # no sensor in the fake host: the time is kept, the energy is not invented, and the reason is given
    assert frame["energy_mj"].isna().all() and frame["power_source"].isna().all()
    summary = json.loads(passing.stderr)
    assert summary["energy_j"] is None and "RAPL" in summary["unavailable_reason"]


def test_a_command_killed_by_a_signal_exits_128_plus_the_signal(sysfs_root):
    result = run("--", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert result.exit_code == 143, result.output


def test_a_command_that_cannot_start_is_one_sentence_and_writes_nothing(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    result = run("--out", out, "--", "no-such-command-for-hwprof")
    assert result.exit_code == 127 and "cannot run no-such-command-for-hwprof: no such command" in result.output
    assert "Traceback" not in result.output and not out.exists()
    assert run().exit_code == 1 and "no command was given" in run().output
    assert "give --out too" in run("--trace", "--", "true").output


def test_help_says_the_exit_status_is_the_commands():
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0 and "exit status is CMD's own" in result.output


def test_show_lists_the_commands_of_a_dataset(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    assert run("--out", out, "--", sys.executable, "-c", "import sys; sys.exit(4)").exit_code == 4
    shown = CliRunner().invoke(main, ["show", str(out), "--json"])
    assert shown.exit_code == 0, shown.output
    (entry,) = json.loads(shown.output)["commands"]
    assert entry["exit_status"] == 4 and entry["energy_j"] is None and entry["duration_s"] > 0
    # the names, units and types of `hwprof run --json`, for a script that reads both
    again = run("--json", "--out", tmp_path / "again.parquet", "--", sys.executable, "-c", "import sys; sys.exit(4)")
    summary = json.loads(again.stderr)
    assert set(entry) <= set(summary) and entry["command"] == summary["command"] == [
        sys.executable,
        "-c",
        "import sys; sys.exit(4)",
    ]
    assert entry["power_flags"] is None and summary["power_flags"] is None  # no sensor: null, as a network's
    text = CliRunner().invoke(main, ["show", str(out)]).output
    assert "status 4" in text and "energy unavailable" in text


def test_trace_without_a_sensor_says_why_no_trace_was_written(sysfs_root, tmp_path):
    out = tmp_path / "tr.parquet"
    result = run("--power", "none", "--trace", "--out", out, "--", "true")
    assert result.exit_code == 0, result.output
    assert f"no power trace written to {tmp_path / 'tr.trace.parquet'}: power measurement was turned off" in (
        result.stderr
    )
    as_json = json.loads(run("--power", "none", "--trace", "--out", out, "--json", "--", "true").stderr)
    assert as_json["trace"] is None and "no power trace written to" in as_json["notes"][0]
    assert not (tmp_path / "tr.trace.parquet").exists()


def test_idle_s_without_a_sensor_says_the_baseline_was_skipped(sysfs_root):
    result = run("--power", "none", "--idle-s", "3", "--", "true")
    assert result.exit_code == 0, result.output
    assert "no idle baseline measured (--idle-s 3): there is no power sensor to read" in result.stderr
    assert "no idle baseline" not in run("--power", "none", "--idle-s", "0", "--", "true").stderr


def test_a_command_appended_to_a_dataset_claims_to_resume_no_run(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    for _ in range(2):
        assert run("--power", "none", "--out", out, "--", "true").exit_code == 0
    assert [run.get("resumed_from") for run in read_provenance(out)] == [None, None]


def test_a_command_that_is_not_executable_exits_126_as_in_a_shell(sysfs_root, tmp_path):
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    result = run("--", script)
    assert result.exit_code == 126, result.output
    assert "it is not executable" in result.output and "Traceback" not in result.output


def test_a_ctrl_c_landing_as_the_commands_status_is_collected_keeps_that_status(sysfs_root, tmp_path, monkeypatch):
    """The race of a Ctrl-C: the kernel has handed over the child's status and Python has not recorded it
    yet. An exception there lost the status, and the retried wait read 0 for a killed command."""
    real_waitpid = os.waitpid

    def waitpid(pid, options):
        result = real_waitpid(pid, options)
        if result[0] == pid:
            monkeypatch.setattr(os, "waitpid", real_waitpid)
            signal.raise_signal(signal.SIGINT)  # Ctrl-C reaches hwprof just now
        return result

    monkeypatch.setattr(os, "waitpid", waitpid)
    out = tmp_path / "rs.parquet"
    result = run("--out", out, "--", sys.executable, "-c", "import sys; sys.exit(130)")
    assert result.exit_code == 130, result.output
    assert json.loads(read_dataset(out).iloc[0]["config"])["exit_status"] == 130
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back after the wait


def test_a_sigterm_to_hwprof_is_passed_on_and_the_commands_end_recorded(sysfs_root, tmp_path):
    out = tmp_path / "rs.parquet"
    status, stderr = signalled_run(out, signal.SIGTERM)
    assert status == 143, stderr
    assert json.loads(read_dataset(out).iloc[0]["config"])["exit_status"] == 143
    assert not (tmp_path / "rs.parquet.lock").exists()


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_frozen_counter_says_it_did_not_advance_not_that_the_command_was_short(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)])  # the files, never updated
    result = run("--idle-s", "0", "--json", "--", *SLEEP_08)
    summary = json.loads(result.stderr)
    assert result.exit_code == 0 and summary["energy_j"] is None
    assert "the counter of rapl:package-0 did not advance" in summary["unavailable_reason"]
    assert "too short" not in summary["unavailable_reason"]


@pytest.mark.slow
def test_a_tegrastats_that_exits_mid_command_keeps_the_commands_status(sysfs_root, tmp_path):
    tegrastats = stopping_tegrastats(tmp_path / "bin", 1)
    out = tmp_path / "runs.parquet"
    command = [sys.executable, "-c", "import sys, time; time.sleep(1.5); sys.exit(3)"]
    result = run("--power", "jetson", "--tegrastats", tegrastats, "--idle-s", "0", "--out", out, "--", *command)
    assert result.exit_code == 3, result.output
    assert "failed unexpectedly" not in result.output
    assert "energy unavailable: power measurement stopped: tegrastats at" in result.stderr
    row = read_dataset(out).iloc[0]
    assert pd.isna(row["energy_mj"]) and json.loads(row["config"])["exit_status"] == 3


def test_a_gpu_lost_mid_command_keeps_the_commands_status(sysfs_root, lose_gpu_mid_command):
    lose_gpu_mid_command()
    result = run("--device", "cuda:0", "--power", "nvml", "--idle-s", "0", "--json", "--", "false")
    assert result.exit_code == 1 and "failed unexpectedly" not in result.output
    summary = json.loads(result.stderr)
    assert summary["energy_j"] is None
    assert summary["unavailable_reason"].startswith("power measurement stopped: GPU 0 is unavailable, because NVML")
