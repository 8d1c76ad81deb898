"""NVML driver against a fake pynvml module."""

import sys
import time

import pytest

from fakes.fake_pynvml import NVML_ERROR_LIBRARY_NOT_FOUND, REASON_BITS, FakeGpu, make_fake_pynvml
from hwprof.drivers import open_sensor
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.nvml import NvmlSensor
from hwprof.errors import HwprofError
from hwprof.measuring.energy import measure_energy, required_window_s


@pytest.fixture
def fake_nvml(monkeypatch):
    """Install a fake pynvml with two GPUs; no Jetson, no CUDA_VISIBLE_DEVICES."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    gpus = [
        FakeGpu(name="Fake GPU zero", uuid="GPU-aaaa0000-0000", power_w=70.0),
        FakeGpu(name="Fake GPU one", uuid="GPU-bbbb1111-1111", power_w=150.0),
    ]
    module = make_fake_pynvml(gpus)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    return module


def window(sensor, seconds):
    sensor.start_window()
    time.sleep(seconds)
    return sensor.stop_window()


def test_counter_is_primary_and_agrees_with_instant_samples(fake_nvml, tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    sensor = open_sensor("auto", "cuda:0")
    try:
        assert sensor.available and sensor.reason is None and sensor.source == "nvml:0:total_energy"
        assert sensor.update_period_s == pytest.approx(0.02, rel=0.5)  # probed, not assumed
        assert sensor.metadata()["update_period_probed"] is True
        result = window(sensor, 0.6)
    finally:
        sensor.close()
    assert result.power_w == pytest.approx(70.0, rel=0.02)
    assert result.counter_energy_j == result.energy_j
    assert result.sampled_energy_j == pytest.approx(result.counter_energy_j, rel=0.05)
    assert "counter_vs_samples_disagree" not in result.flags
    assert result.metadata["sm_clock_mhz_max"] == 1410 and result.metadata["power_limit_w"] == 400.0
    assert fake_nvml.init_count == 0  # every nvmlInit matched by a shutdown


def test_disagreeing_samples_are_flagged(fake_nvml):
    fake_nvml.gpus[0].instant_bias = 1.25
    with NvmlSensor("cuda:0") as sensor:
        result = window(sensor, 0.6)
    assert result.power_w == pytest.approx(70.0, rel=0.02)  # the counter still wins
    assert "counter_vs_samples_disagree" in result.flags
    assert result.metadata["counter_vs_samples"] == pytest.approx(0.25, abs=0.05)


@pytest.mark.parametrize(
    "visible, device, expected_gpu",
    [
        ("1,0", "cuda:0", "Fake GPU one"),
        ("1,0", "cuda:1", "Fake GPU zero"),
        ("GPU-bbbb", "cuda", "Fake GPU one"),
        ("0,junk,1", "cuda:0", "Fake GPU zero"),
    ],
)
def test_cuda_visible_devices_is_honoured(fake_nvml, monkeypatch, visible, device, expected_gpu):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    sensor = NvmlSensor(device)
    assert sensor.name == expected_gpu
    assert sensor.source == f"nvml:{sensor.index}:total_energy"
    assert "CUDA_VISIBLE_DEVICES" in sensor.metadata()["device_mapping"]


@pytest.mark.parametrize(
    "visible, device, message",
    [
        ("0", "cuda:1", "not visible"),
        ("0,junk,1", "cuda:1", "not visible"),
        ("MIG-1234", "cuda:0", "MIG instance"),
        ("GPU-ffff", "cuda:0", "matches 0"),
    ],
)
def test_unusable_cuda_visible_devices_explained(fake_nvml, monkeypatch, visible, device, message):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    with pytest.raises(SensorUnavailable, match=message):
        NvmlSensor(device)
    assert fake_nvml.init_count == 0


def test_throttle_reasons_mark_the_window_but_idle_does_not(fake_nvml):
    with NvmlSensor("cuda:0") as sensor:
        fake_nvml.gpus[0].clock_event_reasons = REASON_BITS["GpuIdle"]
        idle = window(sensor, 0.1)
        fake_nvml.gpus[0].clock_event_reasons = REASON_BITS["SwPowerCap"] | REASON_BITS["HwThermalSlowdown"]
        capped = window(sensor, 0.1)
    assert not idle.throttled and idle.metadata["clock_event_reasons"] == ["GpuIdle"]
    assert capped.throttled and "throttled" in capped.flags
    assert capped.metadata["clock_event_reasons"] == ["SwPowerCap", "HwThermalSlowdown"]


def test_clock_change_inside_a_window_is_flagged(fake_nvml):
    with NvmlSensor("cuda:0") as sensor:
        sensor.start_window()
        time.sleep(0.1)
        fake_nvml.gpus[0].sm_clock_mhz = 1005
        time.sleep(0.1)
        result = sensor.stop_window()
    assert result.clocks_changed and "clocks_changed" in result.flags
    assert (result.metadata["sm_clock_mhz_min"], result.metadata["sm_clock_mhz_max"]) == (1005, 1410)


def test_window_shorter_than_the_update_period_is_never_zero(fake_nvml):
    fake_nvml.gpus[0].counter_update_s = 0.5
    fake_nvml.gpus[0].has_instant = False  # nothing else to fall back on
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.update_period_s >= 0.1
        sensor.start_window()
        result = sensor.stop_window()
    assert "short_window" in result.flags
    assert result.energy_j is None or result.energy_j > 0
    assert result.energy_j is None and "no_energy" in result.flags


def test_averaged_power_usage_is_never_used_as_energy_beside_a_counter(fake_nvml):
    fake_nvml.gpus[0].has_instant = False
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.metadata()["power_field"] == "power_usage"
        assert sensor.metadata()["power_samples_instantaneous"] is False
        result = window(sensor, 0.3)
    assert result.energy_j == result.counter_energy_j
    assert "counter_vs_samples" not in result.metadata


def test_without_a_counter_instant_power_gives_the_energy(fake_nvml):
    fake_nvml.gpus[0].has_counter = False
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.source == "nvml:0:power_instant"
        result = window(sensor, 0.6)
    assert result.power_w == pytest.approx(70.0, rel=0.02)


def test_missing_driver_is_a_reason_with_auto_and_an_error_when_named(monkeypatch, tmp_path):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    sensor = open_sensor("auto", "cuda")
    assert not sensor.available and "NVIDIA driver" in sensor.reason
    with pytest.raises(HwprofError, match="power=nvml cannot be used"):
        open_sensor("nvml", "cuda")
    with pytest.raises(HwprofError, match="RAPL measures the CPU package"):
        open_sensor("rapl", "cuda:0")


def test_bad_arguments_are_user_errors(fake_nvml):
    with pytest.raises(HwprofError, match="power=watts is unknown"):
        open_sensor("watts", "cuda")
    with pytest.raises(HwprofError, match="device 'tpu'"):
        open_sensor("auto", "tpu")
    switched_off = open_sensor("none", "cuda")
    assert not switched_off.available and switched_off.reason == "power measurement was turned off"


def test_measure_energy_sizes_windows_from_the_probed_period(fake_nvml):
    gpu = fake_nvml.gpus[0]
    latency_s = 0.004
    calls = []

    def run(n):
        calls.append(n)
        gpu.set_power(200.0)
        time.sleep(n * latency_s)
        gpu.set_power(70.0)

    with NvmlSensor("cuda:0") as sensor:
        result = measure_energy(run, latency_s, sensor)
        needed = required_window_s(sensor)
    assert calls[0] * latency_s >= needed
    assert result["power_source"] == "nvml:0:total_energy"
    assert result["power_w"] == pytest.approx(200.0, rel=0.03)
    assert result["idle_power_w"] == pytest.approx(70.0, rel=0.03)
    assert result["energy_mj"] == pytest.approx(200.0 * latency_s * 1000, rel=0.05)
    assert result["dynamic_energy_mj"] == pytest.approx(130.0 * latency_s * 1000, rel=0.08)
