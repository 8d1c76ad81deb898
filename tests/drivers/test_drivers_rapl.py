"""RAPL driver against fake powercap trees whose counters rise at known wattages."""

import time

import pytest
from click.testing import CliRunner

from fakes.sysfs import FakeRaplTree, FakeZone, write_file
from hwprof.cli import main
from hwprof.drivers import base, open_sensor, rapl
from hwprof.drivers.base import Clock, SensorUnavailable
from hwprof.drivers.rapl import RaplSensor
from hwprof.errors import HwprofError
from hwprof.measuring.window import EnergyMonitor

SMALL_RANGE_UJ = 6_000_000  # 6 J: at 24 W the counter wraps every 0.25 s


def window_power(sensor, seconds):
    sensor.start_window()
    time.sleep(seconds)
    window = sensor.stop_window()
    return window


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_counts_package_only_not_core_uncore_dram_or_psys(sysfs_root):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 30.0),
        FakeZone("intel-rapl:0:0", "core", 20.0),
        FakeZone("intel-rapl:0:1", "uncore", 4.0),
        FakeZone("intel-rapl:0:2", "dram", 5.0),
        FakeZone("intel-rapl:1", "psys", 50.0),
        FakeZone("intel-rapl-mmio:0", "package-0", 30.0),
    ]
    with FakeRaplTree(sysfs_root, zones):
        with RaplSensor() as sensor:
            assert sensor.source == "rapl:package-0"
            window = window_power(sensor, 0.6)
            traced = {s.sensor for s in window.samples}
    assert window.power_w == pytest.approx(30.0, rel=0.02)
    assert {"package-0", "core", "uncore", "dram", "psys"} <= traced  # traced, not added
    counted = [z["name"] for z in sensor.metadata()["zones"] if z["counted"]]
    assert counted == ["package-0"]
    assert not any(z["zone"].startswith("intel-rapl-mmio") for z in sensor.metadata()["zones"])


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_two_packages_are_summed(sysfs_root):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 30.0),
        FakeZone("intel-rapl:1", "package-1", 18.0),
        FakeZone("intel-rapl:0:0", "core", 20.0),
    ]
    with FakeRaplTree(sysfs_root, zones):
        with RaplSensor() as sensor:
            assert sensor.source == "rapl:package-0+package-1"
            window = window_power(sensor, 0.6)
    assert window.power_w == pytest.approx(48.0, rel=0.02)
    totals = [s.power_w for s in window.samples if s.sensor == "package-0+package-1"]
    assert totals and sum(totals) / len(totals) == pytest.approx(48.0, rel=0.05)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_psys_is_used_only_without_a_package_zone(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "psys", 12.0), FakeZone("intel-rapl:0:0", "core", 7.0)]):
        with RaplSensor() as sensor:
            assert sensor.source == "rapl:psys"
            assert window_power(sensor, 0.5).power_w == pytest.approx(12.0, rel=0.02)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_mirrored_die_counters_count_once(sysfs_root):
    zones = [
        FakeZone("intel-rapl:0", "package-0-die-0", 40.0),
        FakeZone("intel-rapl:1", "package-0-die-1", 40.0, mirror_of="intel-rapl:0"),
    ]
    with FakeRaplTree(sysfs_root, zones):
        with RaplSensor() as sensor:
            assert sensor.source == "rapl:package-0-die-0"
            window = window_power(sensor, 0.6)
    assert window.power_w == pytest.approx(40.0, rel=0.02)
    assert {z["name"]: z["mirrors"] for z in sensor.metadata()["zones"]}["package-0-die-1"] == "package-0-die-0"


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_independent_dies_are_summed(sysfs_root):
    zones = [
        FakeZone("intel-rapl:0", "package-0-die-0", 25.0, start_uj=1_000_000),
        FakeZone("intel-rapl:1", "package-0-die-1", 15.0, start_uj=7_000_000),
    ]
    with FakeRaplTree(sysfs_root, zones):
        with RaplSensor() as sensor:
            assert sensor.source == "rapl:package-0-die-0+package-0-die-1"
            assert window_power(sensor, 0.6).power_w == pytest.approx(40.0, rel=0.02)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.parametrize("window_s", [0.3, 0.6, 1.6])
def test_wraparound_at_any_window_length(sysfs_root, window_s):
    # 24 W into a 6 J counter: a wrap every 0.25 s, so the long window spans six wraps.
    zones = [
        FakeZone(
            "intel-rapl:0",
            "package-0",
            24.0,
            max_range_uj=SMALL_RANGE_UJ,
            max_power_uw=30_000_000,
            start_uj=SMALL_RANGE_UJ - 200_000,
        )
    ]
    with FakeRaplTree(sysfs_root, zones):
        with RaplSensor() as sensor:
            assert sensor.poll_interval_s <= (SMALL_RANGE_UJ / 1e6) / (2 * 30.0) / 4 + 1e-9
            window = window_power(sensor, window_s)
    assert window.energy_j == pytest.approx(24.0 * window.duration_s, rel=0.03 if window_s < 0.5 else 0.02)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_poll_is_fast_enough_for_the_shortest_possible_wrap(sysfs_root):
    zones = [FakeZone("intel-rapl:0", "package-0", 1.0, max_range_uj=2_000_000, max_power_uw=100_000_000)]
    with FakeRaplTree(sysfs_root, zones):
        sensor = RaplSensor()
    # 2 J at twice the 100 W limit wraps in 10 ms; four polls per wrap.
    assert sensor.poll_interval_s == pytest.approx(0.0025)


def test_unfolding_adds_the_range_once_per_wrap(monkeypatch, tmp_path):
    zone = rapl.RaplZone(
        "intel-rapl:0", "package-0", path=tmp_path, parent_id=None, max_range_uj=1000, max_power_w=None
    )
    readings = iter([900, 100, 950, 20])
    monkeypatch.setattr(rapl, "read_counter_uj", lambda path: next(readings))
    assert [zone.unfolded_uj(0.01 * t) for t in range(4)] == [0, 200, 1050, 1120]


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_permission_error_is_explained_not_replaced(sysfs_root, monkeypatch):
    monkeypatch.setattr(rapl.os, "geteuid", lambda: 1000)  # an ordinary user, whom root could help
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]):

        def denied(path):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(rapl, "read_counter_uj", denied)
        sensor = open_sensor("auto", "cpu")
        assert not sensor.available
        for fix in ("chmod", "udev", "cap_dac_read_search", "root", "energy_uj"):
            assert fix in sensor.reason
        with pytest.raises(HwprofError, match="power=rapl cannot be used: RAPL energy counters"):
            open_sensor("rapl", "cpu")


def test_no_powercap_on_a_virtual_machine_says_so(sysfs_root):
    write_file(sysfs_root / "proc" / "cpuinfo", "model name\t: Fake\nflags\t\t: fpu hypervisor sse\n")
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available and "virtual machine" in sensor.reason and "latency only" in sensor.reason


def test_no_powercap_on_bare_metal_says_how_to_load_it(sysfs_root):
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available and "modprobe intel_rapl_msr" in sensor.reason and "HWPROF_SYSFS_ROOT" in sensor.reason
    with pytest.raises(SensorUnavailable):
        RaplSensor()


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_only_core_zones_cannot_measure_the_cpu(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0:0", "core", 10.0)]):
        sensor = open_sensor("auto", "cpu")
    assert not sensor.available and "no package or psys zone" in sensor.reason


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_throttling_and_clock_setting_changes_are_flagged(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]):
        with RaplSensor() as sensor:
            cpu0 = sysfs_root / "sys" / "devices" / "system" / "cpu" / "cpu0"
            clean = window_power(sensor, 0.05)
            sensor.start_window()
            (cpu0 / "thermal_throttle" / "package_throttle_count").write_text("3\n")
            (cpu0 / "cpufreq" / "scaling_max_freq").write_text("1200000\n")
            flagged = sensor.stop_window()
    assert not clean.throttled and not clean.clocks_changed
    assert flagged.throttled and flagged.clocks_changed
    assert {"throttled", "clocks_changed"} <= set(flagged.flags)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_short_window_is_marked_and_a_still_counter_never_gives_zero(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]) as tree:
        with RaplSensor() as sensor:
            tree.stop()  # the counter stops moving, as if it had not updated yet
            time.sleep(0.05)
            window = window_power(sensor, 0.01)
    assert "short_window" in window.flags
    assert window.energy_j is None and "no_energy" in window.flags


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_max_energy_range_that_is_not_a_number_makes_rapl_unusable_with_the_reason(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)])  # the files only: no writer
    write_file(sysfs_root / "sys" / "class" / "powercap" / "intel-rapl:0" / "max_energy_range_uj", "abc\n")
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available
    assert "cannot parse" in sensor.reason and "intel-rapl:0/max_energy_range_uj ('abc')" in sensor.reason
    result = CliRunner().invoke(main, ["devices"])
    assert result.exit_code == 0 and "failed unexpectedly" not in result.output
    assert "cannot parse" in result.output and "('abc')" in result.output


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_poll_that_fails_is_a_reason_not_a_runtime_error(sysfs_root, monkeypatch):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]):
        with RaplSensor() as sensor:
            sensor.start_window()
            monkeypatch.setattr(sensor, "_poll_samples", lambda now: 1 / 0)
            sensor._tick()  # as the background poll would
            with pytest.raises(SensorUnavailable, match=r"rapl:package-0 stopped answering \(ZeroDivisionError"):
                sensor.stop_window()


class NoPollClock(Clock):
    """Real time, but no background poll: a failing read is met by the call under test, not the poller."""

    def every(self, interval_s, fn, name):
        return lambda: None


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_counter_that_disappears_mid_run_stops_the_sensor_not_the_run(sysfs_root):
    tree = FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]).start()
    counter = sysfs_root / "sys" / "class" / "powercap" / "intel-rapl:0" / "energy_uj"
    sensor = RaplSensor()
    sensor.clock = NoPollClock()
    with sensor:
        mark = sensor.mark()
        tree.stop()  # so the file stays gone
        counter.unlink()
        with pytest.raises(SensorUnavailable, match=r"rapl:package-0 stopped answering \(FileNotFoundError.*energy_uj"):
            sensor.window_since(mark)
        with pytest.raises(SensorUnavailable, match="stopped answering"):
            sensor.mark()


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_an_energy_window_whose_counter_disappears_reports_the_reason(sysfs_root, monkeypatch):
    tree = FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)]).start()
    counter = sysfs_root / "sys" / "class" / "powercap" / "intel-rapl:0" / "energy_uj"
    monkeypatch.setattr(base, "REAL_CLOCK", NoPollClock())
    monitor = EnergyMonitor(device="cpu", power="rapl")
    try:
        monitor.begin_window("step")
        tree.stop()  # so the file stays gone
        counter.unlink()
        cost = monitor.end_window("step")
        assert cost.energy_j is None and cost.duration_s is not None
        assert cost.unavailable_reason.startswith("power measurement stopped: rapl:package-0 stopped answering")
        assert "energy_uj" in cost.unavailable_reason
        monitor.begin_window("next")  # later windows are still timed, with the same reason
        assert monitor.end_window("next").unavailable_reason == cost.unavailable_reason
    finally:
        monitor.close()


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_root_that_cannot_read_the_counters_is_not_told_to_run_as_root(sysfs_root, monkeypatch):
    """Root refused (a user-namespaced container, an AppArmor or SELinux policy): sudo, setcap and "run as
    root" cannot help there, so the advice is about the container or the host."""
    monkeypatch.setattr(rapl.os, "geteuid", lambda: 0)
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0)])

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rapl, "read_counter_uj", denied)
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available
    assert "intel-rapl:0/energy_uj" in sensor.reason and "even as root" in sensor.reason
    assert "run hwprof as root" not in sensor.reason and "cap_dac_read_search" not in sensor.reason
    assert "container" in sensor.reason and "--privileged" in sensor.reason


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.parametrize("missing", ["max_energy_range_uj", "name"])
def test_a_package_zone_missing_a_file_is_named_not_taken_for_no_package(sysfs_root, missing):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 10.0), FakeZone("intel-rapl:0:0", "core", 7.0)])
    (sysfs_root / "sys" / "class" / "powercap" / "intel-rapl:0" / missing).unlink()
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available and "no package or psys zone" not in sensor.reason
    assert "RAPL zone intel-rapl:0" in sensor.reason and f"intel-rapl:0/{missing}" in sensor.reason


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_package_without_energy_uj_is_named_and_not_left_out_of_the_total(sysfs_root):
    """Two packages, one counter gone: the other package alone would be half the CPU, given as the whole."""
    zones = [FakeZone("intel-rapl:0", "package-0", 30.0), FakeZone("intel-rapl:1", "package-1", 18.0)]
    FakeRaplTree(sysfs_root, zones)
    (sysfs_root / "sys" / "class" / "powercap" / "intel-rapl:1" / "energy_uj").unlink()
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available
    assert "RAPL zone intel-rapl:1 (package-1) has no energy_uj" in sensor.reason
    with pytest.raises(HwprofError, match=r"intel-rapl:1 \(package-1\) has no energy_uj"):
        open_sensor("rapl", "cpu")
