import pytest

from fakes.sysfs import write_file


@pytest.fixture
def sysfs_root(tmp_path, monkeypatch):
    """A fake sysfs and /proc root with one x86 CPU; a test adds the powercap zones it needs."""
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    write_file(tmp_path / "proc" / "cpuinfo", "processor\t: 0\nmodel name\t: Fake CPU 9000\nflags\t\t: fpu sse\n")
    return tmp_path
