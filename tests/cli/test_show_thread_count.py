"""show's run line counts threads in words that agree with the number ("1 threads" before)."""

from click.testing import CliRunner

from hwprof.cli import main


def test_a_run_on_one_thread_reads_1_thread(tmp_path):
    out = str(tmp_path / "m.parquet")
    args = ["measure", "mlp", "--no-layers", "--power", "none", "--threads", "1", "--max-time", "0.05"]
    assert CliRunner().invoke(main, [*args, "--precision", "0.5", "--out", out]).exit_code == 0
    shown = CliRunner().invoke(main, ["show", out]).output
    assert ", 1 thread, power unavailable" in shown and "1 threads" not in shown
