"""Windows longer than the reads and samples a sensor keeps (SAMPLE_HISTORY each, about half an hour at NVML's
10 ms poll): their energy comes from the counter at their two ends, or from every primary sample since their mark,
not from the part still kept. The history is shortened here so that a window of seconds outlasts it."""

import sys
import time
from pathlib import Path

import pytest

import hwprof
from fakes.fake_pynvml import flat_gpu
from fakes.sim_clock import SimClock
from fakes.sysfs import FakeRaplTree, FakeZone, write_file, write_ina3221_hwmon
from hwprof.drivers import base, open_sensor
from hwprof.drivers.jetson import Ina3221Sensor, TegrastatsSensor
from hwprof.measuring import command
from hwprof.measuring.command import measure_command

FAKE_TEGRASTATS = Path(__file__).resolve().parents[1] / "fakes" / "fake_tegrastats.py"
KEPT = 300  # reads kept: 3 s of NVML's 10 ms poll


@pytest.fixture
def gpu(sysfs_root, monkeypatch):
    monkeypatch.setattr(base, "SAMPLE_HISTORY", KEPT)
    return flat_gpu(monkeypatch)


def test_an_nvml_window_longer_than_the_kept_reads_gives_its_whole_energy_unflagged(gpu):
    """A 30 s window at a flat 70 W over 3 s of kept reads read 35.11 W, 1053 J of 2100 J, and load_unstable."""
    with hwprof.EnergyMonitor("cuda:0", power="nvml") as monitor:
        monitor.begin_window("epoch", sync=False)
        gpu.clock.sleep(30.0)
        epoch = monitor.end_window("epoch", sync=False)
        monitor.begin_window("step", sync=False)  # one inside the history still has its halves
        gpu.clock.sleep(2.5)
        step = monitor.end_window("step", sync=False)
    assert epoch.power_w == pytest.approx(70.0, rel=0.02)
    assert epoch.energy_j == pytest.approx(70.0 * 30.0, rel=0.02)
    assert "load_unstable" not in epoch.flags and epoch.power_spread is None  # its first halves' reads are gone
    assert step.power_w == pytest.approx(70.0, rel=0.005) and step.power_spread == pytest.approx(0.0, abs=0.01)


def test_an_nvml_window_busy_before_its_kept_reads_counts_that_work(gpu):
    """The work in the first 5 s of a 20 s window is gone from the kept reads, not from its energy."""
    with hwprof.EnergyMonitor("cuda:0", power="nvml") as monitor:
        monitor.begin_window("epoch", sync=False)
        started_s = gpu.clock.monotonic()
        gpu.run_for(5.0)
        gpu.clock.sleep(15.0)
        epoch = monitor.end_window("epoch", sync=False)
    assert epoch.energy_j == pytest.approx(gpu.true_energy_j(started_s, gpu.clock.monotonic()), rel=0.02)


def test_a_command_longer_than_the_kept_reads_is_not_below_its_idle(gpu, monkeypatch):
    """`hwprof run` of a 30 s command at 70 W read 35 W and a negative energy above idle, flagged below_idle."""
    monkeypatch.setattr(command, "_run_to_end", lambda argv: gpu.clock.sleep(30.0) or 0)
    sensor = open_sensor("nvml", "cuda:0")
    try:
        cost = measure_command(["train"], "cuda:0", sensor, idle_s=2.5)
    finally:
        sensor.close()
    assert cost.power_w == pytest.approx(70.0, rel=0.02) and cost.energy_j == pytest.approx(2100.0, rel=0.02)
    assert not {"load_unstable", "below_idle"} & set(cost.flags)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_rapl_window_longer_than_the_kept_reads_keeps_its_energy(sysfs_root, monkeypatch):
    monkeypatch.setattr(base, "SAMPLE_HISTORY", 5)  # a quarter of a second of RAPL's 50 ms poll
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 40.0)]):
        with hwprof.EnergyMonitor("cpu", power="rapl") as monitor:
            monitor.begin_window("epoch")
            time.sleep(1.5)
            epoch = monitor.end_window("epoch")
    assert epoch.power_w == pytest.approx(40.0, rel=0.05)
    assert "load_unstable" not in epoch.flags


def test_a_sampled_sensor_averages_every_sample_of_a_window_longer_than_those_kept(sysfs_root, monkeypatch):
    """INA3221 rails, sampled like tegrastats': 5 W for 2 s then 10 W for 2 s read 10 W, the kept last second."""
    monkeypatch.setattr(base, "SAMPLE_HISTORY", 300)  # 1 s of three rails polled every 10 ms
    monkeypatch.setattr(base, "REAL_CLOCK", SimClock())
    chip = write_ina3221_hwmon(
        sysfs_root, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)}
    )
    with Ina3221Sensor() as sensor:
        mark = sensor.mark()
        sensor.clock.sleep(2.0)
        write_file(chip / "curr1_input", "2000\n")
        sensor.clock.sleep(2.0)
        window = sensor.window_since(mark)
    assert window.power_w == pytest.approx(7.5, rel=0.02)
    assert "power_w_halves" not in window.metadata


@pytest.mark.flaky(reruns=2)  # a real tegrastats process, timed in real time
def test_tegrastats_averages_every_sample_of_a_window_longer_than_those_kept(tmp_path, monkeypatch):
    """10 W then 5 W, 0.8 s each, over 0.4 s of kept samples read 5 W; about 7.5 W whatever a busy machine does
    to the count of lines in each part."""
    monkeypatch.setattr(base, "SAMPLE_HISTORY", 60)  # three rails a line, a line every 20 ms
    power_file = write_file(tmp_path / "power_mw", "10000\n")
    program = write_file(
        tmp_path / "tegrastats",
        f"#!/bin/sh\nFAKE_TEGRASTATS_BOARD=orin_nano_jp6 FAKE_TEGRASTATS_POWER_FILE={power_file} "
        f'exec {sys.executable} {FAKE_TEGRASTATS} "$@"\n',
    )
    program.chmod(0o755)
    with TegrastatsSensor(str(program), interval_ms=20) as sensor:
        mark = sensor.mark()
        time.sleep(0.8)
        power_file.write_text("5000\n")
        time.sleep(0.8)
        window = sensor.window_since(mark)
    assert 6.0 < window.power_w < 9.0
