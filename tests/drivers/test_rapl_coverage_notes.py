"""The sensor's notes say what its total covers that a reader would not assume: a top zone of unknown kind left
out, and sockets this process cannot run on (a taskset on one socket still gets every socket's energy)."""

import os

import pytest

from fakes.sysfs import FakeRaplTree, FakeZone, write_file
from hwprof.drivers.rapl import RaplSensor, choose_counted, coverage_notes, discover_zones

# the fake counter is written by a process a busy 2-CPU machine can stall for 100 ms, a tenth of a window:
# a test of a real-time figure is run again, up to twice, before it fails (a wrong reading fails all three)
pytestmark = pytest.mark.flaky(reruns=2)

TWO_SOCKETS = [FakeZone("intel-rapl:0", "package-0", 30.0), FakeZone("intel-rapl:1", "package-1", 18.0)]


@pytest.fixture
def sysfs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    for cpu, package in enumerate([0, 0, 1, 1]):
        write_file(tmp_path / f"sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id", f"{package}\n")
    return tmp_path


def notes_of(monkeypatch, cpus):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(cpus), raising=False)
    zones = discover_zones()
    return coverage_notes(zones, choose_counted(zones))


def test_a_process_pinned_to_one_socket_is_told_the_energy_covers_both(sysfs_root, monkeypatch):
    FakeRaplTree(sysfs_root, TWO_SOCKETS)
    (note,) = notes_of(monkeypatch, {0, 1})
    assert "only on CPUs of package 0" in note and "package-0+package-1" in note and "does not run on" in note
    assert notes_of(monkeypatch, {1, 2}) == []  # both sockets: the total is what it runs on
    write_file(sysfs_root / "sys/devices/system/cpu/cpu1/topology/physical_package_id", "\n")
    assert notes_of(monkeypatch, {0, 1}) == []  # a socket unknown: nothing is claimed


def test_one_socket_has_no_note(sysfs_root, monkeypatch):
    FakeRaplTree(sysfs_root, TWO_SOCKETS[:1])
    assert notes_of(monkeypatch, {0}) == []


def test_a_readable_top_zone_of_unknown_kind_is_named_in_the_notes(sysfs_root, monkeypatch):
    FakeRaplTree(sysfs_root, [*TWO_SOCKETS, FakeZone("intel-rapl:2", "socket-2", 40.0)])
    (note,) = notes_of(monkeypatch, {0, 1, 2, 3})
    assert note.startswith("the RAPL zone intel-rapl:2 (socket-2) is a top zone of a kind hwprof does not know")
    assert RaplSensor().metadata()["notes"] == [note]
