"""compare pairs a command `hwprof run` timed with another --idle-s, or with a sensor on one side only: the idle
window is how idle power was measured, not what ran, so it is left out of the pairing and said in one note."""

import json
import uuid

from click.testing import CliRunner

from fakes.runs import minimal_command_row
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import plain_row, read_dataset, rows_frame, write_table
from hwprof.schema import SCHEMA_VERSION


def command_runs(path, idle_s, runs=3, exit_status=0):
    """`hwprof run --out PATH -- sh job.sh` run `runs` times, each row recording `idle_s` as run writes it."""
    provenance, rows = [], []
    for k in range(runs):
        run_id = uuid.uuid4().hex
        provenance.append({"run_id": run_id, "schema_version": SCHEMA_VERSION})
        config = json.dumps({"argv": ["sh", "job.sh"], "exit_status": exit_status, "idle_s": idle_s})
        row = {**minimal_command_row(["sh", "job.sh"]), "config": config, "latency_ms": 1000.0 + k}
        rows.append(plain_row(row, run_id))
    write_table(path, rows_frame(rows), provenance)
    return path


def test_another_idle_window_or_no_sensor_still_pairs_and_is_noted(tmp_path):
    base = command_runs(tmp_path / "base.parquet", 0.6)
    for name, idle_s, words in (("long.parquet", 1.0, "an idle baseline of 1 s"), ("none.parquet", None, "no sensor")):
        new = command_runs(tmp_path / name, idle_s)
        result = CliRunner().invoke(main, ["compare", str(base), str(new), "--fail-above", "5%"])
        assert result.exit_code == 0, result.output
        report = compare(base, new)
        assert report["matched_rows"] == 1
        (note,) = [line for line in report["run_differences"] if "idle" in line]
        assert "an idle baseline of 0.6 s" in note and words in note
        assert json.loads(read_dataset([new])["config"].iloc[0])["idle_s"] == idle_s  # the rows keep it


def test_the_same_idle_window_says_nothing_and_another_exit_status_is_another_row(tmp_path):
    base = command_runs(tmp_path / "base.parquet", 0.6)
    same = compare(base, command_runs(tmp_path / "same.parquet", 0.6))
    assert same["matched_rows"] == 1 and not [line for line in same["run_differences"] if "idle" in line]
    failed = CliRunner().invoke(main, ["compare", str(base), str(command_runs(tmp_path / "f.parquet", 0.6, 3, 1))])
    assert failed.exit_code == 2 and "share no measured row" in failed.output
