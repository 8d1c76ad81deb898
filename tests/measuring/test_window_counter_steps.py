"""Windows over NVML's counter, which moves every 100 ms in steps of 7 J at 70 W: their power is read between
the counter's steps, so a flat load reads flat whatever the window's length."""

import pytest

import hwprof
from fakes.fake_pynvml import flat_gpu


@pytest.fixture
def gpu(sysfs_root, monkeypatch):
    return flat_gpu(monkeypatch)


def test_a_flat_70_w_reads_70_w_whatever_the_windows_length(gpu):
    """2.05, 2.15 and 2.25 s windows read 68.28, 71.62 and 68.43 W: the counter's difference over each."""
    with hwprof.EnergyMonitor("cuda:0", power="nvml") as monitor:
        for seconds in (2.05, 2.15, 2.25):
            monitor.begin_window("w", sync=False)
            gpu.clock.sleep(seconds)
            window = monitor.end_window("w", sync=False)
            assert window.power_w == pytest.approx(70.0, rel=0.005), seconds
            assert window.energy_j == pytest.approx(70.0 * seconds, rel=0.005), seconds


def test_a_block_busy_at_its_start_reads_its_mean_power_not_a_steady_fit(gpu):
    with hwprof.EnergyMonitor("cuda:0", power="nvml") as monitor:
        monitor.begin_window("step", sync=False)
        started_s = gpu.clock.monotonic()
        gpu.run_for(0.3)
        gpu.clock.sleep(2.7)
        step = monitor.end_window("step", sync=False)
    assert step.energy_j == pytest.approx(gpu.true_energy_j(started_s, gpu.clock.monotonic()), rel=0.03)
