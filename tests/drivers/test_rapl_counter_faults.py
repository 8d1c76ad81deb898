"""A RAPL counter that steps back where no wrap fits, or leaps forward beyond any power its zone draws, is a
faulty counter: the sensor stops with the reason, and no window gives the step as energy."""

import re
from pathlib import Path

import pytest

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.drivers import base, rapl
from hwprof.drivers.base import Clock, SensorUnavailable
from hwprof.measuring.window import EnergyMonitor

RANGE_UJ = 262_143_328_850


def zone(max_power_w=150.0, max_range_uj=RANGE_UJ):
    return rapl.RaplZone("intel-rapl:0", "package-0", Path("intel-rapl:0"), None, max_range_uj, max_power_w)


def reads(monkeypatch, zone, timed_readings):
    """The zone's unfolded totals over (seconds, raw counter) reads."""
    readings = iter(raw for _, raw in timed_readings)
    monkeypatch.setattr(rapl, "read_counter_uj", lambda path: next(readings))
    return [zone.unfolded_uj(t) for t, _ in timed_readings]


def test_a_counter_that_goes_back_where_no_wrap_fits_is_a_fault_not_262_kj(monkeypatch):
    with pytest.raises(SensorUnavailable, match=r"rapl:package-0 went back by 5 J, which no wrap explains"):
        reads(monkeypatch, zone(), [(0.0, 100_000_000), (1.0, 150_000_000), (1.05, 145_000_000)])
    with pytest.raises(SensorUnavailable, match=r"went back by 5 J.*more than a CPU package draws"):
        reads(monkeypatch, zone(max_power_w=None), [(0.0, 100_000_000), (1.0, 95_000_000)])


def test_a_real_wrap_is_still_unfolded_with_or_without_a_stated_power(monkeypatch):
    near_top = RANGE_UJ - 1_000_000
    for max_power_w in (150.0, None):
        timed = [(0.0, near_top), (0.05, 2_000_000), (0.1, 9_000_000)]  # 3 J in 50 ms across the wrap
        assert reads(monkeypatch, zone(max_power_w), timed) == [0, 3_000_000, 10_000_000]
    small = zone(max_power_w=None, max_range_uj=1000)  # a tiny range wraps on any step back
    assert reads(monkeypatch, small, [(0.0, 900), (0.001, 100), (0.002, 950), (0.003, 20)]) == [0, 200, 1050, 1120]


def test_a_forward_leap_beyond_three_times_the_zones_power_is_a_fault(monkeypatch):
    with pytest.raises(SensorUnavailable, match=r"rapl:package-0 jumped by 300 J in 0.002 s, over 3 times the 150 W"):
        reads(monkeypatch, zone(), [(0.0, 0), (1.0, 150_000_000), (1.002, 450_000_000)])


def test_turbo_above_the_stated_power_and_a_late_update_are_not_faults(monkeypatch):
    # 400 W (PL2 above a 150 W limit) for a second, then a 30 J step shown in one read 1 ms after the last
    timed = [(0.0, 0), (1.0, 400_000_000), (1.001, 430_000_000)]
    assert reads(monkeypatch, zone(), timed)[-1] == 430_000_000


def test_the_first_read_is_never_refused(monkeypatch):
    assert reads(monkeypatch, zone(), [(5.0, 200_000_000_000), (5.01, 200_001_000_000)]) == [0, 1_000_000]


def test_a_zone_that_states_no_power_takes_any_forward_step(monkeypatch):
    assert reads(monkeypatch, zone(max_power_w=None), [(0.0, 0), (0.002, 300_000_000)])[-1] == 300_000_000


def test_the_zones_highest_stated_power_counts_its_limits_too(tmp_path):
    for name, text in (
        ("constraint_0_max_power_uw", "150000000"),
        ("constraint_0_power_limit_uw", "125000000"),
        ("constraint_1_power_limit_uw", "250000000"),  # PL2
        ("constraint_2_max_power_uw", "0"),
    ):
        (tmp_path / name).write_text(text + "\n")
    assert rapl._highest_power_w(tmp_path) == 250.0
    assert rapl._highest_power_w(tmp_path / "absent") is None


class NoPollClock(Clock):
    def every(self, interval_s, fn, name):
        return lambda: None


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.parametrize("step_uj", [-5_000_000, 300_000_000])
def test_a_window_over_a_faulty_step_is_unavailable_with_the_reason_never_a_number(tmp_path, monkeypatch, step_uj):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setattr(base, "REAL_CLOCK", NoPollClock())
    tree = FakeRaplTree(tmp_path, [FakeZone("intel-rapl:0", "package-0", 10.0, start_uj=50_000_000)]).start()
    counter = tree.powercap / "intel-rapl:0" / "energy_uj"
    monitor = EnergyMonitor(device="cpu", power="rapl")
    try:
        monitor.begin_window("step")
        tree.stop()
        counter.write_text(f"{int(counter.read_text()) + step_uj}\n")
        cost = monitor.end_window("step")
    finally:
        monitor.close()
    assert cost.energy_j is None
    # the fake counter runs on at 10 W until stopped, so the step back is 5 J less what it counted meanwhile
    back = re.search(r"went back by ([\d.]+) J, which no wrap explains", cost.unavailable_reason)
    assert (back and 4.0 < float(back.group(1)) <= 5.0) or "jumped by 300 J" in cost.unavailable_reason
