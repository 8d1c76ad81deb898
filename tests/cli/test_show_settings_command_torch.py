"""show's line for a run of `hwprof run` leaves torch out: the command ran its own interpreter and torch, which
hwprof cannot see, and its run keeps hwprof's own torch apart (hwprof_build), so the line read "torch
unrecorded". A measure run's line still names its torch."""

import sys

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_provenance


def run_lines(path) -> list[str]:
    shown = CliRunner().invoke(main, ["show", str(path)])
    assert shown.exit_code == 0, shown.output
    return [line for line in shown.output.splitlines() if line.startswith("run ")]


def test_a_command_run_line_says_nothing_of_torch(tmp_path):
    out = tmp_path / "runs.parquet"
    ran = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", sys.executable, "-c", "pass"])
    assert ran.exit_code == 0, ran.output
    (run,) = read_provenance(out)
    assert run["measured_process"] == "command" and "torch" in run["hwprof_build"]
    (line,) = run_lines(out)
    assert "torch" not in line
    assert f"hwprof {run['hwprof']}, started {run['start_time']}" in line


def test_a_measure_run_line_names_its_torch(tmp_path):
    out = tmp_path / "m.parquet"
    args = ["measure", "mlp", "--no-layers", "--power", "none", "--threads", "1", "--max-time", "0.05"]
    assert CliRunner().invoke(main, [*args, "--precision", "0.5", "--out", str(out)]).exit_code == 0
    (run,) = read_provenance(out)
    (line,) = run_lines(out)
    assert f", torch {run['torch']}, started " in line
