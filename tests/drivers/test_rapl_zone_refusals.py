"""Zones hwprof cannot place (an empty name, an unreadable package beside psys, only the MMIO interface) are
refused with a reason that names them, never measured as part of the CPU given as the whole."""

import pytest

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.drivers import open_sensor, rapl
from hwprof.drivers.rapl import discover_zones, unavailable_reason

# the fake counter is written by a process a busy 2-CPU machine can stall for 100 ms, a tenth of a window:
# a test of a real-time figure is run again, up to twice, before it fails (a wrong reading fails all three)
pytestmark = pytest.mark.flaky(reruns=2)


def test_a_top_zone_with_an_empty_name_is_refused_like_one_without_a_name(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 50.0), FakeZone("intel-rapl:1", "package-1", 40.0)])
    (sysfs_root / "sys/class/powercap/intel-rapl:1/name").write_text("\n")
    reason = unavailable_reason(discover_zones())
    assert reason.startswith("the RAPL zone intel-rapl:1 has an empty name file")
    assert "intel-rapl:1/name" in reason and "part of the CPU as the whole" in reason


def test_an_unreadable_package_is_refused_not_replaced_by_psys(sysfs_root, monkeypatch):
    monkeypatch.setattr(rapl.os, "geteuid", lambda: 1000)
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 30.0), FakeZone("intel-rapl:1", "psys", 60.0)])
    read = rapl.read_counter_uj

    def denied_for_the_package(path):
        if path.parent.name == "intel-rapl:0":
            raise PermissionError(13, "Permission denied", str(path))
        return read(path)

    monkeypatch.setattr(rapl, "read_counter_uj", denied_for_the_package)
    zones = discover_zones()
    reason = unavailable_reason(zones)
    assert "intel-rapl:0/energy_uj" in reason and "chmod o+r" in reason and "psys" in reason
    assert rapl.choose_counted(zones) == []  # psys is not taken in the package's place
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available and sensor.reason == reason


def test_psys_is_still_taken_where_there_is_no_package_zone_at_all(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "psys", 60.0), FakeZone("intel-rapl:0:0", "core", 7.0)])
    zones = discover_zones()
    assert unavailable_reason(zones) is None
    assert [z.name for z in rapl.choose_counted(zones)] == ["psys"]


def test_only_mmio_zones_say_the_msr_interface_is_the_one_to_load(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl-mmio:0", "package-0", 30.0)])
    reason = unavailable_reason(discover_zones())
    assert "intel-rapl-mmio" in reason and "MSR" in reason and "sudo modprobe intel_rapl_msr" in reason
    assert not reason.startswith("no RAPL zones")
