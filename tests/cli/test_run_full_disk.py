"""`hwprof run --out` on a full disk: one sentence about the dataset, worded for a run (which has no
--resume), and the row kept in the journal that the next run folds in; no aside file."""

import errno
import json
import os

from click.testing import CliRunner

from hwprof import dataset
from hwprof.cli import main
from hwprof.dataset import read_dataset


def run(*args):
    return CliRunner().invoke(main, ["run", "--power", "none", *map(str, args)])


def test_a_full_disk_is_said_of_the_dataset_and_the_next_run_keeps_the_row(sysfs_root, tmp_path, monkeypatch):
    out = tmp_path / "runs.parquet"

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(dataset, "write_table", full_disk)
        result = run("--out", out, "--", "true")
    assert result.exit_code == 1
    assert "cannot write" in result.output and "runs.parquet (No space left on device)" in result.output
    assert "runs.parquet.partial.jsonl" in result.output and "hwprof run --out" in result.output
    assert "resume" not in result.output and ".run-" not in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["host", "runs.parquet.partial.jsonl"]
    assert run("--out", out, "--", "false").exit_code == 1  # false's own status
    assert sorted(json.loads(c)["exit_status"] for c in read_dataset(out)["config"]) == [0, 1]
