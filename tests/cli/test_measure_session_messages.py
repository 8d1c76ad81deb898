"""The sentences `hwprof measure` refuses a run with: another plan on --resume, a batch too big for memory."""

import re

from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0"]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_resume_with_another_dtype_names_the_dtype_each_run_has(tmp_path):
    """A plan leaves a default dtype out; the refusal says float32, the value to pass, whichever side has it."""
    default, half = tmp_path / "default.parquet", tmp_path / "half.parquet"
    assert run("measure", "mlp", "--out", str(default), "--no-layers", *FAST).exit_code == 0
    assert run("measure", "mlp", "--out", str(half), "--no-layers", "--dtype", "bfloat16", *FAST).exit_code == 0
    result = run("measure", "mlp", "--out", str(default), "--no-layers", "--dtype", "bfloat16", "--resume", *FAST)
    assert result.exit_code == 1 and "other dtype (" in result.output and "dtype=float32" in result.output
    assert "None" not in result.output
    result = run("measure", "mlp", "--out", str(half), "--no-layers", "--resume", *FAST)
    assert result.exit_code == 1 and "other dtype (" in result.output and "dtype=bfloat16" in result.output


def test_a_batch_too_big_for_memory_says_the_size_of_a_sample_in_a_unit_that_shows_it(tmp_path, monkeypatch):
    """mlp needs about 12 KiB per sample, which 0.0 MiB hid."""
    import hwprof.measuring.session

    monkeypatch.setattr(hwprof.measuring.session, "available_memory_bytes", lambda device: 64 * 2**20)
    result = run("measure", "mlp", "--batch-size", "100000", "--no-layers", "--out", str(tmp_path / "x.parquet"), *FAST)
    assert result.exit_code == 1 and re.search(
        r"\([1-9][0-9.]* KiB per sample, estimated from batch 1\)", result.output
    )
