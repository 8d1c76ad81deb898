"""GPUs whose NVML readings go wrong: a counter that steps back, power that reads 0 W, a power-only GPU lost
mid-run, a GPU with no power source at all, a driver upgraded under a running module, a GPU this job may not
open. None of them may give a number; each says why."""

import sys
from dataclasses import dataclass

import pytest

from fakes.fake_pynvml import NVML_ERROR_GPU_IS_LOST, NVML_ERROR_NO_PERMISSION, FakeGpu, make_fake_pynvml
from fakes.sim_clock import SimClock
from hwprof.drivers import base, open_sensor
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.nvml import NvmlSensor
from hwprof.errors import HwprofError

NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18


@dataclass
class FaultyGpu(FakeGpu):
    """A fake GPU whose counter steps back by `back_mj`, and whose power reads 0 mW, from given times on."""

    back_after_s: float = float("inf")
    back_mj: int = 1_000_000
    zero_after_s: float = float("inf")

    def counter_mj(self) -> int:
        late = self.clock.monotonic() >= self.back_after_s
        return super().counter_mj() - (self.back_mj if late else 0)

    def usage_mw(self) -> int:
        return 0 if self.clock.monotonic() >= self.zero_after_s else super().usage_mw()

    def instant_mw(self) -> int:
        return 0 if self.clock.monotonic() >= self.zero_after_s else super().instant_mw()


def pre_volta(**settings) -> FaultyGpu:
    """A Pascal-like GPU: no energy counter, no field 186, an instantaneous nvmlDeviceGetPowerUsage."""
    return FaultyGpu(name="Tesla P100", has_counter=False, instant_scopes=(), average_s=0.0, **settings)


def install(monkeypatch, gpus, **settings):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("NVIDIA_VISIBLE_DEVICES", raising=False)
    module = make_fake_pynvml(gpus, clock=SimClock(), **settings)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setattr(base, "REAL_CLOCK", module.clock)
    return module


def busy_window(sensor, gpu, seconds=2.0):
    sensor.start_window()
    gpu.run_for(seconds)
    return sensor.stop_window()


def test_a_counter_that_steps_back_stops_the_sensor_instead_of_a_negative_energy(monkeypatch):
    """An audit saw 'energy -716 J, mean power -226.1 W' written to a dataset: NVML's counter went back mid-window."""
    gpu = FaultyGpu()
    fake = install(monkeypatch, [gpu])
    with NvmlSensor("cuda:0") as sensor:
        assert busy_window(sensor, gpu).energy_j > 0
        gpu.back_after_s = fake.clock.monotonic() + 1.0
        with pytest.raises(
            SensorUnavailable, match=r"counter of nvml:0:total_energy went back by 9\d\d\.\d+ J at 1\.00 s"
        ):
            busy_window(sensor, gpu)
        with pytest.raises(SensorUnavailable, match="went back"):  # stopped for good: later windows say so too
            busy_window(sensor, gpu)


def test_a_power_only_gpu_whose_power_reads_0_w_at_open_is_unusable(monkeypatch, tmp_path):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    fake = install(monkeypatch, [pre_volta(zero_after_s=0.0)])
    with pytest.raises(SensorUnavailable, match="GPU 0 has no energy counter and its power reading.*answers 0 W"):
        NvmlSensor("cuda:0")
    with pytest.raises(HwprofError, match="power=nvml cannot be used: GPU 0 has no energy counter"):
        open_sensor("nvml", "cuda:0")
    assert fake.init_count == 0


def test_a_power_only_gpu_whose_power_falls_to_0_w_mid_run_stops_the_sensor(monkeypatch):
    """Zeros are not samples: the audit's 1186 J where 2400 J was drawn came from zeros averaged in."""
    gpu = pre_volta()
    fake = install(monkeypatch, [gpu])
    with NvmlSensor("cuda:0") as sensor:
        assert busy_window(sensor, gpu).power_w == pytest.approx(gpu.load_w, rel=0.1)  # with its rise
        gpu.zero_after_s = fake.clock.monotonic() + 1.0
        with pytest.raises(SensorUnavailable, match="GPU 0's power reading through NVML fell to 0 W"):
            busy_window(sensor, gpu)


def test_beside_a_counter_a_0_w_sample_is_left_out_and_the_counter_measures(monkeypatch):
    gpu = FaultyGpu(zero_after_s=0.0)
    install(monkeypatch, [gpu])
    with NvmlSensor("cuda:0") as sensor:
        window = busy_window(sensor, gpu)
    assert window.samples == [] and window.power_w == pytest.approx(gpu.load_w, rel=0.05)


def test_a_power_only_gpu_lost_mid_run_says_so(monkeypatch):
    """The power-usage path swallowed GPU_IS_LOST, and the energy was stretched over the samples before the loss."""
    gpu = pre_volta()
    install(monkeypatch, [gpu])
    with NvmlSensor("cuda:0") as sensor:
        sensor.start_window()
        gpu.run_for(1.0)
        gpu.query_error = NVML_ERROR_GPU_IS_LOST
        gpu.run_for(1.0)
        with pytest.raises(SensorUnavailable, match="GPU 0 is unavailable, because NVML answered 'GPU is lost'"):
            sensor.stop_window()


def test_a_gpu_with_neither_counter_nor_power_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    gpu = pre_volta()
    gpu.missing_symbols = ("nvmlDeviceGetPowerUsage",)
    install(monkeypatch, [gpu])
    with pytest.raises(HwprofError, match="power=nvml cannot be used: GPU 0 reports neither an energy counter nor"):
        open_sensor("nvml", "cuda:0")
    assert "reports neither" in open_sensor("auto", "cuda:0").reason


def test_a_counter_only_gpu_is_measured_by_its_counter_alone(monkeypatch):
    gpu = FaultyGpu(instant_scopes=())
    gpu.missing_symbols = ("nvmlDeviceGetPowerUsage",)
    install(monkeypatch, [gpu])
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.power_field is None and not sensor.samples_are_instantaneous
        assert busy_window(sensor, gpu).power_w == pytest.approx(gpu.load_w, rel=0.05)


def test_a_driver_upgraded_without_reloading_its_module_says_to_reboot(monkeypatch, tmp_path):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIB_RM_VERSION_MISMATCH))
    reason = open_sensor("auto", "cuda:0").reason
    assert "upgraded without reloading its kernel module" in reason and "reboot" in reason


def test_a_uuid_prefix_that_matches_no_readable_gpu_names_the_gpu_that_refused(monkeypatch):
    gpus = [FakeGpu(uuid="GPU-aaaa0000"), FakeGpu(uuid="GPU-bbbb1111", handle_error=NVML_ERROR_NO_PERMISSION)]
    install(monkeypatch, gpus)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb")
    with pytest.raises(SensorUnavailable) as refused:
        NvmlSensor("cuda:0")
    assert "matches none of the 1 GPUs NVML could read" in str(refused.value)
    assert "GPU 1 is unavailable, because NVML answered 'Insufficient Permissions'" in str(refused.value)
