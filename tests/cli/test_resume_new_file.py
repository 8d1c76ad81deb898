"""`hwprof measure --resume` on a file that does not exist starts a new run: it says so in one line, and its
summary spoke of "the measurement, over all its runs" for its one run."""

from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--precision", "0.5", "--max-time", "0.02", "--threads", "1", "--seed", "0"]


def test_resuming_a_file_that_is_not_there_says_so_and_sums_up_one_run(tmp_path):
    out = tmp_path / "new.parquet"
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--resume", *FAST])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"nothing to resume: {out} does not exist, so this run starts it") == 1
    (took,) = [line for line in result.output.splitlines() if line.startswith("took ")]
    assert "over all its runs" not in took and ": networks " in took
    again = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--resume", *FAST])
    assert "nothing to resume" not in again.output
