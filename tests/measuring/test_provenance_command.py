"""`hwprof run -- CMD` keeps hwprof's own interpreter and torch apart from the command's, which it cannot see: the
record said hwprof's torch, threads and python as if the command had run them."""

import json
import sys

import torch
from click.testing import CliRunner

from hwprof.cli import main


def test_a_commands_run_records_hwprofs_build_as_hwprofs(tmp_path, sysfs_root, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    out = tmp_path / "runs.parquet"
    command = ["run", "--power", "none", "--out", str(out), "--", sys.executable, "-c", "pass"]
    ran = CliRunner().invoke(main, command)
    assert ran.exit_code == 0, ran.output
    [run] = json.loads((tmp_path / "runs.parquet.json").read_text())["runs"]
    assert run["measured_process"] == "command"
    for key in ("torch", "torch_threads", "python", "python_executable", "mkldnn_enabled"):
        assert key not in run
    assert run["hwprof_build"]["torch"] == torch.__version__
    assert run["hwprof_build"]["python_executable"] == sys.executable
    assert run["env"]["OMP_NUM_THREADS"] == "3"  # the command inherits it

    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 0, shown.output
    assert f"torch {torch.__version__}" not in shown.output


def test_a_measure_run_records_its_own_build(sysfs_root):
    from hwprof.measuring.provenance import collect_provenance

    record = collect_provenance("cpu", 1, ["hwprof", "measure", "mlp"])
    assert record["measured_process"] == "hwprof"
    assert record["torch"] == torch.__version__ and "hwprof_build" not in record
