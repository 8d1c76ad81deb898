"""energy_window and EnergyMonitor refuse a HWPROF_SYSFS_ROOT that is not a folder, as measure and run do,
where they opened no sensor and said to set HWPROF_SYSFS_ROOT, which was set."""

import pytest

import hwprof
from hwprof.errors import HwprofError


def test_a_missing_sysfs_root_is_refused_on_entering(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(HwprofError, match=r"HWPROF_SYSFS_ROOT=.*nowhere is not a folder"):
        hwprof.EnergyMonitor()
    ran = []
    with pytest.raises(HwprofError, match="is not a folder"):
        with hwprof.energy_window():
            ran.append(True)
    assert ran == []
