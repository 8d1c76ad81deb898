"""Shared by the command-line tests: a fake machine root (HWPROF_SYSFS_ROOT) with a CPU that names itself, in
its own folder beside the test's files."""

import pytest

from fakes.sysfs import write_file


@pytest.fixture
def sysfs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path / "host"))
    write_file(tmp_path / "host" / "proc" / "cpuinfo", "model name\t: Fake CPU 9000\nflags\t\t: fpu\n")
    return tmp_path / "host"
