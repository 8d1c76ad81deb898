"""Faults from outside: a bug surfaces as one sentence, and SIGTERM or SIGINT at any point of a
measurement keeps every finished row, says how to resume, and exits 128 + the signal."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import journal_path

FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0", "--quiet"]


def test_a_bug_is_one_sentence_that_points_to_debug(monkeypatch):
    import hwprof.dataset

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(hwprof.dataset, "merge_datasets", broken)
    result = CliRunner().invoke(main, ["merge", "a.parquet", "--out", "b.parquet"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "ZeroDivisionError: division by zero" in result.output and "--debug" in result.output

    debugged = CliRunner().invoke(main, ["--debug", "merge", "a.parquet", "--out", "b.parquet"])
    assert isinstance(debugged.exception, ZeroDivisionError)  # the traceback is there to be shown


def _measure(out, *extra):
    models = ["mlp", "sweep:relu:6", "sweep:add:6"]
    command = [sys.executable, "-m", "hwprof", "measure", *models, "--batch-size", "1,2", "--out", str(out), *FAST]
    return subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(out) -> int:
    if out.exists():
        return len(pd.read_parquet(out))
    journal = journal_path(out)
    return max(0, len(journal.read_text().splitlines()) - 1) if journal.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_a_random_point_loses_nothing_and_resume_finishes(tmp_path, signum):
    out = tmp_path / "m.parquet"
    process = _measure(out)
    deadline = time.monotonic() + 60
    wait_for = random.Random(signum).randint(1, 6)  # rows written before the signal
    while _rows(out) < wait_for and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    kept = pd.read_parquet(out) if out.exists() else None
    assert kept is not None and len(kept) >= wait_for

    resumed = _measure(out, "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    final = pd.read_parquet(out)
    keys = ["model", "batch_size", "kind", "layer_index"]
    assert not final.duplicated(keys).any()  # nothing measured twice
    merged = kept.merge(final, on=keys, suffixes=("_kept", "_final"))
    assert len(merged) == len(kept) and (merged["latency_ms_kept"] == merged["latency_ms_final"]).all()
    assert not os.path.exists(journal_path(out))
