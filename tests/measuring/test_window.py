"""`hwprof.energy_window`: the energy of any block of code, and no number where none was measured."""

import time

import pytest

import hwprof
from fakes.sysfs import FakeRaplTree, FakeZone, write_file


@pytest.fixture
def sysfs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    write_file(tmp_path / "proc" / "cpuinfo", "model name\t: Fake CPU 9000\nflags\t\t: fpu\n")
    return tmp_path


@pytest.mark.slow
def test_a_block_on_a_fake_rapl_counter_at_42_w_reads_42_w(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)]):
        with hwprof.energy_window("cpu", power="rapl") as cost:
            time.sleep(0.8)
    assert cost.source == "rapl:package-0" and cost.unavailable_reason is None
    assert cost.duration_s == pytest.approx(0.8, abs=0.1)
    assert cost.power_w == pytest.approx(42.0, rel=0.02)
    assert cost.energy_j == pytest.approx(42.0 * cost.duration_s, rel=0.03)


def test_a_block_too_short_for_the_sensor_gets_no_energy_and_says_why(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)]):
        with hwprof.energy_window("cpu", power="rapl") as cost:
            pass
    assert cost.energy_j is None and cost.power_w is None and cost.duration_s is not None
    assert "too short" in cost.unavailable_reason and "short_window" in cost.flags


def test_without_a_sensor_the_time_is_kept_and_the_energy_is_not_invented(sysfs_root):
    with hwprof.energy_window("cpu") as cost:  # no powercap tree: auto finds no sensor
        time.sleep(0.01)
    assert cost.duration_s >= 0.01 and cost.energy_j is None and cost.power_w is None
    assert cost.source is None and "RAPL" in cost.unavailable_reason


def test_a_block_that_raises_is_not_measured_and_the_error_goes_on(sysfs_root):
    with pytest.raises(ZeroDivisionError):
        with hwprof.energy_window("cpu") as cost:
            1 / 0
    assert cost.duration_s is None and cost.energy_j is None
