"""Several processes on one dataset at once: a writer is refused only by another writer, and the refusal names it."""

import fcntl
import os
import time

import pytest

from hwprof.files import ExclusiveLock, LockedError


def held_lock_file(path, text: str):
    """A lock file holding `text`, locked exclusively as another process's writer holds it; the open handle."""
    handle = open(f"{path}.lock", "w+")
    handle.write(text)
    handle.flush()
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def test_a_refusal_names_a_holder_that_writes_its_name_just_after_locking(tmp_path, monkeypatch):
    """The holder had locked the empty file and not yet written its name: "being written by another process"."""
    out = tmp_path / "all.parquet"
    holder = held_lock_file(out, "")
    sleep = time.sleep

    def holder_writes_its_name(seconds):
        if not os.path.getsize(holder.name):
            holder.write("hwprof merge (pid 42)\n")
            holder.flush()
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", holder_writes_its_name)
    with pytest.raises(LockedError, match=r"being written by hwprof merge \(pid 42\)"):
        ExclusiveLock(out, "hwprof merge").acquire()
    holder.close()


def test_a_readers_probe_never_makes_a_writer_refuse(tmp_path, monkeypatch):
    """A probe (writer_of's shared lock) held as the writer tried: refused, naming the killed run in the file."""
    out = tmp_path / "k.parquet"
    probe = open(f"{out}.lock", "w+")
    probe.write("hwprof measure (pid 1021)\n")  # left by a killed measure
    probe.flush()
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    sleep = time.sleep

    def probe_ends(seconds):
        probe.close()
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", probe_ends)
    lock = ExclusiveLock(out, "hwprof measure").acquire()
    assert open(f"{out}.lock").read().startswith(f"hwprof measure (pid {os.getpid()})")
    lock.release()
