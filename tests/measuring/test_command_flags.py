"""`hwprof run` flags a command's power by measure's rules: below its idle baseline, unstable between halves."""

import time

import pytest

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.drivers import open_sensor
from hwprof.measuring import command
from hwprof.measuring.command import command_row, measure_command

# the fake counter is written by a process a busy 2-CPU machine can stall for 100 ms, a tenth of a window:
# a test of a real-time figure is run again, up to twice, before it fails (a wrong reading fails all three)
pytestmark = pytest.mark.flaky(reruns=2)


def _measured_on_rapl(idle_s: float):
    """The cost of a command (its run stood in for by the test) read from the fake RAPL tree."""
    sensor = open_sensor("rapl", "cpu")
    try:
        return measure_command(["work"], "cpu", sensor, idle_s=idle_s)
    finally:
        sensor.close()


def test_a_command_below_its_idle_and_changing_power_is_flagged(sysfs_root, monkeypatch):
    """It reported -20 J above idle with no flag and power_spread NaN; measure flags both."""
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 20.0)]) as tree:

        def command_at_10_then_20_w(argv):
            tree.set_power("intel-rapl:0", 10.0)
            time.sleep(0.6)
            tree.set_power("intel-rapl:0", 20.0)
            time.sleep(0.6)
            return 0

        monkeypatch.setattr(command, "_run_to_end", command_at_10_then_20_w)
        cost = _measured_on_rapl(idle_s=0.6)
    assert cost.dynamic_energy_j < 0 and cost.power_w == pytest.approx(15.0, rel=0.1)
    assert {"below_idle", "load_unstable"} <= set(cost.flags)
    assert cost.power_spread == pytest.approx(0.67, abs=0.1)
    row = command_row(cost, "Fake CPU", 1.0)
    assert row["power_spread"] == cost.power_spread and "below_idle" in row["power_flags"].split(",")


def test_a_counter_that_freezes_during_the_command_is_said_not_read_as_low_power(sysfs_root, monkeypatch):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 20.0)]) as tree:

        def command_during_which_the_counter_freezes(argv):
            time.sleep(0.2)
            tree.stop()
            time.sleep(0.7)
            return 0

        monkeypatch.setattr(command, "_run_to_end", command_during_which_the_counter_freezes)
        cost = _measured_on_rapl(idle_s=0)
    assert cost.energy_j is None and cost.power_w is None and cost.exit_status == 0
    assert "the counter of rapl:package-0 did not advance for" in cost.unavailable_reason
