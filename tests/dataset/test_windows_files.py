"""Writing and reading files where Windows lacks what Linux has: no os.pathconf, no fcntl (file locks come from
msvcrt.locking, which locks byte ranges, mandatorily), no O_NOFOLLOW, O_NONBLOCK or O_CLOEXEC, and no removing
a file that is open. Simulated here by taking those away."""

import contextlib
import errno
import os
import sys
import types
import warnings

import pytest

from fakes.runs import minimal_layer_row, write_run
from hwprof.dataset import DatasetWriter, read_dataset, read_provenance, writer_of
from hwprof.errors import HwprofError, UnfinishedDatasetWarning
from hwprof.files import COMPANION_ADDED, ExclusiveLock, LockedError, UnlockedWriteWarning, check_output, open_lock_file

PROVENANCE = {"schema_version": 1}


@pytest.fixture
def windows(monkeypatch):
    """What native Windows lacks, taken away; msvcrt and winreg are missing too, as on Linux."""
    for name in ("pathconf", "O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC"):
        monkeypatch.delattr(os, name, raising=False)
    for module in ("fcntl", "msvcrt", "winreg"):
        monkeypatch.setitem(sys.modules, module, None)  # `import fcntl` raises ImportError


class FakeMsvcrt(types.ModuleType):
    """msvcrt.locking as Windows does it: a byte range locked through one descriptor refuses every other one
    (EACCES) until unlocked or closed."""

    LK_UNLCK, LK_NBLCK = 0, 2

    def __init__(self):
        super().__init__("msvcrt")
        self.held = {}  # (inode, position) -> descriptor
        self.positions = []

    def locking(self, descriptor, mode, count):
        position = os.lseek(descriptor, 0, os.SEEK_CUR)
        self.positions.append(position)
        key = (os.fstat(descriptor).st_ino, position)
        owner = self.held.get(key)
        if mode == self.LK_UNLCK:
            assert owner == descriptor
            del self.held[key]
        elif owner is not None and owner != descriptor and self._open_on(owner, key[0]):
            raise PermissionError(errno.EACCES, "Permission denied")
        else:
            self.held[key] = descriptor

    @staticmethod
    def _open_on(descriptor, inode):
        """Whether `descriptor` still holds its lock: Windows drops the locks of a closed handle."""
        try:
            return os.fstat(descriptor).st_ino == inode
        except OSError:
            return False


@pytest.fixture
def msvcrt(windows, monkeypatch):
    fake = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    return fake


def write_rows(path, rows=3):
    with DatasetWriter(path, {**PROVENANCE, "run_id": f"run-{path.name}"}) as writer:
        writer.write([minimal_layer_row(index) for index in range(rows)])


def killed_run(path, table_rows=3, journal_rows=2):
    """A dataset whose writer died after `table_rows` reached the table and `journal_rows` more only its journal."""
    writer = DatasetWriter(path, {**PROVENANCE, "run_id": "killed"}, rewrite_interval_s=3600)
    writer.write([minimal_layer_row(index) for index in range(table_rows)])
    for index in range(table_rows, table_rows + journal_rows):
        writer.write([minimal_layer_row(index)])
    writer._journal.close()
    if writer._lock._handle is not None:
        writer._lock._handle.close()  # the system drops a dead process's lock; its lock file stays


def read_killed(path):
    with pytest.warns(UnfinishedDatasetWarning, match="2 more row"):
        assert len(read_dataset(path)) == 3
    assert read_provenance(path)[0]["status"] == "interrupted"


def test_an_output_is_checked_against_windows_path_limits_without_pathconf(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "pathconf")
    monkeypatch.setitem(sys.modules, "winreg", None)
    assert check_output(tmp_path / "out.parquet", companions=True) == tmp_path / "out.parquet"
    free = 260 - len(str(tmp_path)) - len("/.parquet") - COMPANION_ADDED
    too_long = tmp_path / ("L" * free + ".parquet")
    with pytest.raises(HwprofError, match="characters long as a full path.*past this system's limit of 260"):
        check_output(too_long, companions=True)

    @contextlib.contextmanager
    def open_key(root, name):
        assert name == r"SYSTEM\CurrentControlSet\Control\FileSystem"
        yield name

    winreg = types.SimpleNamespace(HKEY_LOCAL_MACHINE=0, OpenKey=open_key, QueryValueEx=lambda key, name: (1, 4))
    monkeypatch.setitem(sys.modules, "winreg", winreg)
    assert check_output(too_long, companions=True) == too_long  # long paths enabled
    with pytest.raises(HwprofError, match=f"give a name of at most {255 - COMPANION_ADDED} characters"):
        check_output(tmp_path / ("N" * 250), companions=True)


def test_a_dataset_is_written_and_a_killed_runs_read_without_any_lock(tmp_path, windows):
    with pytest.warns(UnlockedWriteWarning, match="without a lock"):
        write_run(tmp_path / "run.parquet")
    assert len(read_dataset(tmp_path / "run.parquet")) > 0
    assert not (tmp_path / "run.parquet.lock").exists()
    with pytest.warns(UnlockedWriteWarning):
        killed_run(tmp_path / "killed.parquet")
    read_killed(tmp_path / "killed.parquet")


def test_a_dataset_is_locked_with_msvcrt_where_there_is_no_fcntl(tmp_path, msvcrt):
    path = tmp_path / "run.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnlockedWriteWarning)
        writer = DatasetWriter(path, {**PROVENANCE, "run_id": "live"})
        try:
            assert writer_of(path) == f"hwprof measure (pid {os.getpid()})"
            with pytest.raises(LockedError, match=r"being written by hwprof measure \(pid"):
                ExclusiveLock(path, "hwprof merge").acquire()
            writer.write([minimal_layer_row(0)])
        finally:
            writer.close()
        assert not (tmp_path / "run.parquet.lock").exists()  # closed first, then removed, as Windows needs
        assert writer_of(path) is None and msvcrt.held == {}
        assert set(msvcrt.positions) == {1 << 30}  # never the holder's name, which a refused writer reads
        write_rows(tmp_path / "second.parquet")
        killed_run(tmp_path / "killed.parquet")
        assert (tmp_path / "killed.parquet.lock").exists()
    read_killed(tmp_path / "killed.parquet")
    write_rows(tmp_path / "killed.parquet.next")  # a lock left by a killed run is taken anew
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnfinishedDatasetWarning)
        DatasetWriter(tmp_path / "killed.parquet", {**PROVENANCE, "run_id": "resumed"}, resume=True).close()


def test_a_linked_lock_file_is_refused_without_o_nofollow(tmp_path, windows):
    (tmp_path / "precious").write_text("keep")
    (tmp_path / "run.parquet.lock").symlink_to(tmp_path / "precious")
    with pytest.raises(HwprofError, match="is a symbolic link, which hwprof never writes through"):
        open_lock_file(tmp_path / "run.parquet.lock", os.O_RDWR | os.O_CREAT)
    assert (tmp_path / "precious").read_text() == "keep"
