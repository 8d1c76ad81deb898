"""`hwprof run --out` appends one row: the dataset is checked before CMD runs and locked only for the append, so
parallel jobs can add to one runs file, and nothing about the output fails after CMD has run."""

import json
import sys
import threading

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_dataset, writer_of
from hwprof.files import ExclusiveLock


def run(*args):
    return CliRunner().invoke(main, ["run", "--power", "none", *map(str, args)])


def test_a_run_waits_for_another_run_appending_and_holds_no_lock_while_cmd_runs(sysfs_root, tmp_path):
    """The second of two parallel runs on one file never ran its command: 'being written by hwprof measure'."""
    out = tmp_path / "runs.parquet"
    assert run("--out", out, "--", "true").exit_code == 0
    other = ExclusiveLock(out, "hwprof run").acquire()  # another job appending its row just now
    threading.Timer(0.5, other.release).start()
    unlocked = f"import os, sys; sys.exit(7 if os.path.exists({str(out) + '.lock'!r}) else 0)"
    result = run("--out", out, "--", sys.executable, "-c", unlocked)
    assert result.exit_code == 0, result.output
    assert [json.loads(c)["exit_status"] for c in read_dataset(out)["config"]] == [0, 0]
    assert not (tmp_path / "runs.parquet.lock").exists()


def test_a_dataset_a_measure_is_writing_is_refused_before_cmd_runs(sysfs_root, tmp_path):
    out, ran = tmp_path / "runs.parquet", tmp_path / "ran"
    with ExclusiveLock(out, "hwprof measure"):
        result = run("--out", out, "--", "touch", ran)
    assert result.exit_code == 1 and "is being written by hwprof measure (pid" in result.output
    assert not ran.exists() and not out.exists()


def test_the_lock_names_hwprof_run_as_its_writer(sysfs_root, tmp_path, monkeypatch):
    from hwprof import dataset

    out = tmp_path / "runs.parquet"
    seen = []
    real_write = dataset.DatasetWriter.write

    def write_seeing_the_lock(self, rows, samples=None):
        seen.append(writer_of(out))
        return real_write(self, rows, samples)

    monkeypatch.setattr(dataset.DatasetWriter, "write", write_seeing_the_lock)
    assert run("--out", out, "--", "true").exit_code == 0
    assert len(seen) == 1 and seen[0].startswith("hwprof run (pid ")


def test_an_unreadable_trace_is_refused_before_cmd_runs(sysfs_root, tmp_path):
    """It was refused after CMD ran and its row was written, with CMD's exit status 5 lost and no summary."""
    out, ran = tmp_path / "runs.parquet", tmp_path / "ran"
    (tmp_path / "runs.trace.parquet").write_text("garbage\n")
    script = f"open({str(ran)!r}, 'w').close(); raise SystemExit(5)"
    result = run("--out", out, "--trace", "--", sys.executable, "-c", script)
    assert result.exit_code == 1 and "cannot read the trace" in result.output
    assert not ran.exists() and not out.exists()


def test_a_measure_that_took_the_dataset_while_cmd_ran_costs_neither_the_row_nor_the_exit_status(sysfs_root, tmp_path):
    """With no lock held while CMD runs, a measure could start writing the dataset meanwhile: the append was
    then refused after CMD had run, its row lost and the exit status 1 instead of CMD's."""
    out, locked = tmp_path / "runs.parquet", tmp_path / "locked"
    holder = tmp_path / "holder.py"  # a measure started beside the command: it takes the dataset and keeps it
    holder.write_text(
        "import pathlib, time\n"
        "from hwprof.files import ExclusiveLock\n"
        f"held = ExclusiveLock({str(out)!r}, 'hwprof measure').acquire()\n"
        f"pathlib.Path({str(locked)!r}).touch()\n"
        "time.sleep(4)\n"
    )
    command = (  # CMD starts that measure, waits until it holds the dataset, and exits 3
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(holder)!r}], start_new_session=True)\n"
        f"while not os.path.exists({str(locked)!r}): time.sleep(0.02)\n"
        "sys.exit(3)\n"
    )
    result = run("--out", out, "--", sys.executable, "-c", command)
    assert result.exit_code == 3, result.output
    assert "is being written by hwprof measure" in result.output and "hwprof merge" in result.output
    (aside,) = tmp_path.glob("runs.run-*.parquet")
    assert [json.loads(c)["exit_status"] for c in read_dataset(aside)["config"]] == [3]
