"""Two `hwprof merge --out all.parquet` at once: the second waits a moment for the first's lock (a reader's probe
must not refuse a writer), and then must not replace what the first wrote meanwhile unless given --force."""

import time

import pytest

from fakes.runs import write_run
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table
from hwprof.errors import HwprofError
from hwprof.files import ExclusiveLock


def test_a_merge_that_waited_for_the_lock_does_not_replace_the_other_merges_output(tmp_path, monkeypatch):
    mine, theirs = write_run(tmp_path / "mine.parquet", seed=1), write_run(tmp_path / "theirs.parquet", seed=2)
    out = tmp_path / "all.parquet"
    other = ExclusiveLock(out, "hwprof merge").acquire()  # the other merge, which started first
    sleep = time.sleep

    def other_merge_finishes_while_this_one_waits(seconds):
        if other._handle is not None:  # this merge passed its first check and waits for the lock
            write_table(out, read_dataset(theirs), read_provenance(theirs))
            other.release()
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", other_merge_finishes_while_this_one_waits)
    with pytest.raises(HwprofError, match="exists"):
        merge_datasets([mine], out, force=False)
    assert {run["run_id"] for run in read_provenance(out)} == {run["run_id"] for run in read_provenance(theirs)}
