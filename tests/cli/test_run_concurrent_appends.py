"""Parallel `hwprof run --out` jobs on one runs file: each waits for the others' appends, and writes its row
aside only when a measure or a merge holds the file."""

import json

from click.testing import CliRunner

from hwprof import dataset
from hwprof.cli import main
from hwprof.dataset import read_dataset
from hwprof.files import ExclusiveLock


def run(*args):
    return CliRunner().invoke(main, ["run", "--power", "none", *map(str, args)])


def test_a_run_whose_holder_finished_before_it_was_asked_waits_instead_of_writing_aside(
    sysfs_root, tmp_path, monkeypatch
):
    """The other run released the file between the refusal and the look at its holder: the row went aside."""
    out = tmp_path / "runs.parquet"
    assert run("--out", out, "--", "true").exit_code == 0
    other = ExclusiveLock(out, "hwprof run").acquire()
    writer_of = dataset.writer_of

    def other_run_finishes_first(path):
        other.release()  # the holder is gone by the time this one looks
        return writer_of(path)

    monkeypatch.setattr(dataset, "writer_of", other_run_finishes_first)
    result = run("--out", out, "--", "true")
    assert result.exit_code == 0, result.output
    assert "instead" not in result.output
    assert [json.loads(c)["exit_status"] for c in read_dataset(out)["config"]] == [0, 0]
    assert sorted(p.name for p in tmp_path.glob("runs.run-*")) == []


def test_a_measure_holding_the_file_still_has_the_row_written_aside(sysfs_root, tmp_path, monkeypatch):
    out = tmp_path / "runs.parquet"
    assert run("--out", out, "--", "true").exit_code == 0
    from hwprof.cli import run as run_command

    append = run_command._append

    def measure_starts_while_cmd_runs(*args):
        with ExclusiveLock(out, "hwprof measure"):
            return append(*args)

    monkeypatch.setattr(run_command, "_append", measure_starts_while_cmd_runs)
    result = run("--out", out, "--", "true")
    assert result.exit_code == 0, result.output
    assert "being written by hwprof measure" in result.output and "instead" in result.output
    assert len(read_dataset(out)) == 1 and len(list(tmp_path.glob("runs.run-*.parquet"))) == 1


def test_a_rows_measure_s_covers_the_command_not_hwprofs_start_up(sysfs_root, tmp_path, monkeypatch):
    """measure_s was 4.16 s for a 0.26 s command: the clock started before torch was imported to name the device."""
    import time

    from hwprof.measuring import provenance

    clock, skipped = time.perf_counter, [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock() + skipped[0])
    name_of = provenance.device_name

    def slow_start_up(device):
        skipped[0] += 1000.0  # hwprof's start-up: importing torch to name the device
        return name_of(device)

    monkeypatch.setattr(provenance, "device_name", slow_start_up)
    out = tmp_path / "runs.parquet"
    assert run("--out", out, "--", "true").exit_code == 0
    row = read_dataset(out).iloc[0]
    assert row["measure_s"] < 1000.0 and row["measure_s"] >= row["latency_ms"] / 1000.0
