"""A file planted at a dataset's `<out>.lock` (a symbolic link, a hard link, a FIFO) is refused in one sentence, never
truncated and written through: `hwprof measure` wrote "hwprof measure (pid N)" into whatever the link led to."""

import fcntl
import os

import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import writer_of
from hwprof.errors import HwprofError
from hwprof.files import ExclusiveLock


@pytest.mark.parametrize("plant", ["symlink", "hardlink"])
def test_a_link_at_the_lock_path_is_refused_and_its_target_kept(tmp_path, plant):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    getattr(os, plant.replace("hardlink", "link"))(victim, tmp_path / "out.parquet.lock")
    with pytest.raises(HwprofError, match="lock file .*out.parquet.lock is a .*link"):
        ExclusiveLock(tmp_path / "out.parquet", "hwprof measure").acquire()
    assert victim.read_text() == "precious\n"


def test_a_fifo_at_the_lock_path_is_refused(tmp_path):
    os.mkfifo(tmp_path / "out.parquet.lock")
    with pytest.raises(HwprofError, match="is not a regular file"):
        ExclusiveLock(tmp_path / "out.parquet", "hwprof measure").acquire()


def test_hwprof_run_refuses_a_symlinked_lock_in_one_sentence(sysfs_root, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    (tmp_path / "d2.parquet.lock").symlink_to(notes)
    result = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(tmp_path / "d2.parquet"), "--", "true"])
    assert result.exit_code == 1 and "is a symbolic link" in result.output, result.output
    assert "Traceback" not in result.output and notes.read_text() == "my notes\n"


def test_a_symlinked_lock_names_no_writer(tmp_path):
    """Only ExclusiveLock's own plain file names a live writer: a link is not read through."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("hwprof measure (pid 1)\n")
    (tmp_path / "out.parquet.lock").symlink_to(elsewhere)
    with open(elsewhere) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert writer_of(tmp_path / "out.parquet") is None


def test_a_lock_still_works_and_names_its_holder(tmp_path):
    out = tmp_path / "out.parquet"
    with ExclusiveLock(out, "hwprof measure"):
        assert writer_of(out) == f"hwprof measure (pid {os.getpid()})"
        with pytest.raises(HwprofError, match="being written by hwprof measure"):
            ExclusiveLock(out, "hwprof merge").acquire()
    assert writer_of(out) is None and not (tmp_path / "out.parquet.lock").exists()
