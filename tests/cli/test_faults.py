"""Faults from outside: a bug surfaces as one sentence, and SIGTERM or SIGINT at any point of a
measurement keeps every finished row, says how to resume, and exits 128 + the signal."""

from __future__ import annotations

import io
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
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # SIGABRT prints where a hung run was (see _ended)
    return subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _ended(process: subprocess.Popen, timeout_s: float) -> tuple[str, str]:
    """The output of a run that should end now; one that hangs instead fails the test with its stack."""
    try:
        return process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"the run had not ended {timeout_s} s after its signal; where it was:\n{stderr[-6000:]}")


def _rows(out) -> int:
    """Rows written so far; the file is read in one go, since the run may replace it meanwhile."""
    if out.exists():
        return len(pd.read_parquet(io.BytesIO(out.read_bytes())))
    journal = journal_path(out)  # a line per row, after the provenance and beside the rows' raw samples
    return sum(line.startswith('{"row"') for line in journal.read_text().splitlines()) if journal.exists() else 0


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
    _, stderr = _ended(process, 60)
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


def test_fit_never_overwrites_its_input_nor_an_existing_file_without_force(tmp_path):
    from fakes.synthetic import synthetic_frame, write

    dataset = write(synthetic_frame(n_networks=6), tmp_path / "d.parquet")
    before = (tmp_path / "d.parquet").read_bytes()
    onto_input = CliRunner().invoke(main, ["fit", dataset, "--out", dataset, "--no-cv", "--quiet"])
    assert onto_input.exit_code == 1 and "is also an input" in onto_input.output
    assert (tmp_path / "d.parquet").read_bytes() == before
    onto_provenance = CliRunner().invoke(main, ["fit", dataset, "--out", f"{dataset}.json", "--force", "--quiet"])
    assert onto_provenance.exit_code == 1 and "is the provenance file of the input" in onto_provenance.output

    existing = tmp_path / "p.json"
    existing.write_text("keep me")
    refused = CliRunner().invoke(main, ["fit", dataset, "--out", str(existing), "--no-cv", "--quiet"])
    assert refused.exit_code == 1 and "--force" in refused.output and existing.read_text() == "keep me"
    into_folder = CliRunner().invoke(main, ["fit", dataset, "--out", f"{tmp_path}/", "--no-cv", "--quiet"])
    assert into_folder.exit_code == 1 and "is a directory" in into_folder.output
    forced = CliRunner().invoke(main, ["fit", dataset, "--out", str(existing), "--no-cv", "--quiet", "--force"])
    assert forced.exit_code == 0, forced.output
    assert existing.read_text().startswith("{")


def test_a_second_writer_of_the_same_dataset_is_refused_at_its_start(tmp_path):
    from hwprof.dataset import DatasetWriter
    from hwprof.errors import HwprofError
    from hwprof.measuring.provenance import collect_provenance

    out = tmp_path / "d.parquet"
    first = DatasetWriter(out, collect_provenance("cpu", 1, ["test"]))
    with pytest.raises(HwprofError, match="is being written by hwprof measure"):
        DatasetWriter(out, collect_provenance("cpu", 1, ["test"]), resume=True)
    first.close()
    assert not (tmp_path / "d.parquet.lock").exists()
    DatasetWriter(out, collect_provenance("cpu", 1, ["test"]), resume=True).close()


@pytest.mark.slow
def test_two_measure_runs_on_one_output_keep_the_first_runs_rows(tmp_path):
    out = tmp_path / "m.parquet"
    first = _measure(out, "--precision", "0.001", "--max-time", "1")  # runs on while the second starts
    deadline = time.monotonic() + 60
    while not (tmp_path / "m.parquet.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    second = _measure(out)
    _, second_err = second.communicate(timeout=120)
    assert first.poll() is None, "the first run ended before the second started"
    assert second.returncode == 1 and "is being written by hwprof measure" in second_err
    assert "Traceback" not in second_err
    while _rows(out) < 1 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGTERM)
    _, first_err = _ended(first, 60)
    assert first.returncode == 128 + signal.SIGTERM, first_err
    frame = pd.read_parquet(out)
    assert frame["run_id"].nunique() == 1 and len(frame) > 0  # the first run's rows, and only its


@pytest.mark.parametrize("command", [["devices"], ["measure", "mlp"], ["run", "--", "true"]])
def test_a_tegrastats_path_that_does_not_exist_is_refused(tmp_path, command):
    missing = tmp_path / "no" / "tegrastats"
    head, rest = command[:1], command[1:]
    result = CliRunner().invoke(main, [*head, "--tegrastats", str(missing), *rest])
    assert result.exit_code == 1 and result.output.count("\n") == 1  # one line, as every refusal
    assert f"--tegrastats {missing}: no such file" in result.output and "Traceback" not in result.output
