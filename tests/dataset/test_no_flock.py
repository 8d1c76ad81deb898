"""A folder whose file system has no locks (network or FUSE folders: flock answers ENOTSUP or ENOLCK) is
written unlocked with a warning, not refused as "being written by another process"; only a lock held by another
process refuses a writer."""

import errno
import fcntl

import pytest

from fakes.runs import write_run
from hwprof.dataset import read_dataset
from hwprof.files import ExclusiveLock, LockedError, UnlockedWriteWarning


@pytest.fixture(params=[errno.ENOTSUP, errno.ENOLCK])
def no_flock(request, monkeypatch):
    def flock(handle, operation):
        raise OSError(request.param, "no locks here")

    monkeypatch.setattr(fcntl, "flock", flock)
    return request.param


def test_a_dataset_is_written_unlocked_where_the_file_system_has_no_locks(tmp_path, no_flock):
    out = tmp_path / "shared.parquet"
    with pytest.warns(UnlockedWriteWarning, match="without a lock: its file system has no file locks"):
        write_run(out)
    assert len(read_dataset(out)) > 0
    assert not (tmp_path / "shared.parquet.lock").exists()


def test_a_lock_file_that_was_there_is_left_as_it_was(tmp_path, no_flock):
    lock_file = tmp_path / "shared.parquet.lock"
    lock_file.write_text("hwprof measure (pid 1)\n")
    with pytest.warns(UnlockedWriteWarning), ExclusiveLock(tmp_path / "shared.parquet", "hwprof merge"):
        pass
    assert lock_file.read_text() == "hwprof measure (pid 1)\n"


def test_only_a_lock_another_process_holds_refuses(tmp_path, monkeypatch):
    def held(handle, operation):
        raise BlockingIOError(errno.EWOULDBLOCK, "Resource temporarily unavailable")

    monkeypatch.setattr(fcntl, "flock", held)
    with pytest.raises(LockedError, match="is being written by another process"):
        ExclusiveLock(tmp_path / "out.parquet", "hwprof measure").acquire()
