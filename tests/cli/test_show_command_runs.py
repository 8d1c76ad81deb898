"""`show` of a `hwprof run` dataset says nothing of intra-op threads for its runs: a command runs under its own
settings, and each of its runs read "unrecorded threads" as if something had been lost."""

import sys

from click.testing import CliRunner

from hwprof.cli import main


def test_a_command_run_is_shown_without_threads(tmp_path):
    out = tmp_path / "runs.parquet"
    ran = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", sys.executable, "-c", "pass"])
    assert ran.exit_code == 0, ran.output
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 0, shown.output
    [line] = [line for line in shown.output.splitlines() if line.startswith("run ")]
    assert "(complete): 1 row on " in line
    assert "threads" not in line
