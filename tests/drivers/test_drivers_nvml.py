"""NVML driver against a fake pynvml that behaves like real GPUs, on a simulated clock."""

import os
import sys

import pytest

from fakes.fake_pynvml import (
    NVML_ERROR_GPU_IS_LOST,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NVML_ERROR_NO_PERMISSION,
    REASON_BITS,
    FakeGpu,
    make_fake_pynvml,
)
from fakes.sim_clock import SimClock
from hwprof.drivers import base, nvml, open_sensor
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.nvml import NvmlSensor
from hwprof.errors import HwprofError
from hwprof.measuring.energy import measure_energy, required_window_s


def install(monkeypatch, gpus, **settings):
    """A fake pynvml over `gpus` on a simulated clock that every sensor reads; no Jetson, no CUDA_VISIBLE_DEVICES."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("NVIDIA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    module = make_fake_pynvml(gpus, clock=SimClock(), **settings)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setattr(base, "REAL_CLOCK", module.clock)
    return module


@pytest.fixture
def fake_nvml(monkeypatch):
    return install(
        monkeypatch,
        [
            FakeGpu(name="Fake GPU zero", uuid="GPU-aaaa0000-0000", idle_w=70.0),
            FakeGpu(name="Fake GPU one", uuid="GPU-bbbb1111-1111", idle_w=150.0),
        ],
    )


def window(sensor, gpu, seconds, busy=False):
    sensor.start_window()
    if busy:
        gpu.run_for(seconds)
    else:
        sensor.clock.sleep(seconds)
    return sensor.stop_window()


def step_response(sensor, gpu, latency_s=0.004):
    """measure_energy over an item whose inferences keep the GPU busy for latency_s each."""
    return measure_energy(lambda n: gpu.run_for(n * latency_s), latency_s, sensor)


def test_counter_is_primary_and_agrees_with_instant_samples(fake_nvml, tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    sensor = open_sensor("auto", "cuda:0")
    try:
        assert sensor.available and sensor.reason is None and sensor.source == "nvml:0:total_energy"
        assert sensor.update_period_s == pytest.approx(0.1, rel=0.05)  # probed, not assumed
        assert sensor.metadata()["update_period_probed"] is True
        result = window(sensor, fake_nvml.gpus[0], 2.5)
    finally:
        sensor.close()
    assert result.steady_power_w == pytest.approx(70.0, rel=0.01)
    assert result.counter_energy_j == result.energy_j
    assert result.sampled_energy_j == pytest.approx(result.counter_energy_j, rel=0.05)
    assert "counter_vs_samples_disagree" not in result.flags
    assert result.metadata["sm_clock_mhz_max"] == 345 and result.metadata["power_limit_w"] == 700.0
    assert fake_nvml.init_count == 0  # every nvmlInit matched by a shutdown


def test_disagreeing_samples_are_flagged(fake_nvml):
    fake_nvml.gpus[0].instant_bias = 1.25
    with NvmlSensor("cuda:0") as sensor:
        result = window(sensor, fake_nvml.gpus[0], 2.5)
    assert result.steady_power_w == pytest.approx(70.0, rel=0.01)  # the counter still wins
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


def test_step_response_gives_idle_load_and_dynamic_energy_within_two_percent(fake_nvml):
    """Idle -> load -> idle with a 100 ms counter, a rise time, a decay tail and a 1 s averaged power_usage."""
    gpu = fake_nvml.gpus[0]
    gpu.idle_w, gpu.load_w, gpu.power_limit_w = 70.0, 700.0, 700.0
    latency_s = 0.004
    with NvmlSensor("cuda:0") as sensor:
        results = [step_response(sensor, gpu, latency_s) for _ in range(6)]
    for result in results:
        assert result["idle_power_w"] == pytest.approx(70.0, rel=0.02)
        assert result["power_w"] == pytest.approx(700.0, rel=0.02)
        assert result["energy_mj"] == pytest.approx(700.0 * latency_s * 1000, rel=0.02)
        assert result["dynamic_energy_mj"] == pytest.approx(630.0 * latency_s * 1000, rel=0.02)
        flags = result["power_flags"].split(",")
        assert "idle_unstable" not in flags and "clocks_changed" not in flags and "throttled" not in flags


def test_slow_nvml_calls_do_not_bias_the_step_response(monkeypatch):
    fake = install(monkeypatch, [FakeGpu()], call_s=0.002)  # 2 ms a call: the poller falls behind
    with NvmlSensor("cuda:0") as sensor:
        result = step_response(sensor, fake.gpus[0])
    assert result["idle_power_w"] == pytest.approx(70.0, rel=0.02)
    assert result["dynamic_energy_mj"] == pytest.approx(630.0 * 4, rel=0.02)


def test_load_window_state_becomes_row_values(fake_nvml):
    """Item 3 and 6: the load window's clocks are the load clocks (no clocks_changed), and they reach the row."""
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        result = step_response(sensor, gpu)
    assert result["gpu_sm_clock_mhz"] == gpu.capped_sm_mhz  # under the power cap, far above idle 345
    assert result["gpu_mem_clock_mhz"] == gpu.load_mem_mhz
    assert result["gpu_pstate"] == "P0" and result["gpu_temperature_c"] > 60
    assert result["gpu_clock_event_reasons"] == "SwPowerCap"  # recorded, yet not 'throttled'
    assert result["power_spread"] < 0.01 and result["gpu_other_processes"] == 0
    assert result["power_flags"] == ""


def test_power_cap_is_recorded_but_thermal_slowdown_throttles(fake_nvml):
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        idle = window(sensor, gpu, 0.5)
        capped = window(sensor, gpu, 0.5, busy=True)
        gpu.extra_reasons = REASON_BITS["HwThermalSlowdown"]
        hot = window(sensor, gpu, 0.5, busy=True)
    assert not idle.throttled and idle.metadata["clock_event_reasons"] == ["GpuIdle"]
    assert not capped.throttled and capped.metadata["clock_event_reasons"] == ["SwPowerCap"]
    assert hot.throttled and "throttled" in hot.flags
    assert hot.metadata["clock_event_reasons"] == ["SwPowerCap", "HwThermalSlowdown"]


def test_old_driver_without_clocks_event_reasons_falls_back_to_throttle_reasons(fake_nvml):
    gpu = fake_nvml.gpus[0]
    gpu.missing_symbols = ("nvmlDeviceGetCurrentClocksEventReasons",)  # before R535: FUNCTION_NOT_FOUND
    gpu.extra_reasons = REASON_BITS["BoardLimit"] | REASON_BITS["Reliability"]
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.metadata()["clock_event_reasons_call"] == "nvmlDeviceGetCurrentClocksThrottleReasons"
        result = window(sensor, gpu, 0.5, busy=True)
    assert result.metadata["clock_event_reasons"] == ["SwPowerCap", "BoardLimit", "Reliability"]
    assert result.throttled


def test_clock_change_inside_a_load_window_is_flagged(fake_nvml):
    gpu = fake_nvml.gpus[0]
    gpu.load_w = 300.0  # under the cap: load clocks
    with NvmlSensor("cuda:0") as sensor:
        sensor.start_window()
        gpu.run_for(0.2)
        gpu.load_sm_mhz = 1005
        gpu.run_for(0.2)
        result = sensor.stop_window()
    assert result.clocks_changed and "clocks_changed" in result.flags
    assert (result.metadata["sm_clock_mhz_min"], result.metadata["sm_clock_mhz_max"]) == (1005, 1980)


def test_the_clock_a_power_cap_steers_is_recorded_but_not_flagged(fake_nvml):
    """At its power limit a GPU moves its SM clock to hold the power (an H200 at 700 W: 1395-1500 MHz in one
    window); that is its steady state under load, so energy at the cap carries no clocks_changed flag."""
    gpu = fake_nvml.gpus[0]
    gpu.capped_sm_mhz, gpu.capped_sm_swing_mhz = 1450, 50
    with NvmlSensor("cuda:0") as sensor:
        result = step_response(sensor, gpu)
        gpu.run_for(1.0)  # at the cap before the window opens, as measure_energy has it
        capped = window(sensor, gpu, 1.0, busy=True)
    assert (capped.metadata["sm_clock_mhz_min"], capped.metadata["sm_clock_mhz_max"]) == (1400, 1500)
    assert capped.metadata["sm_clock_held_by_power_cap"] and not capped.clocks_changed
    assert result["gpu_clock_event_reasons"] == "SwPowerCap" and result["power_flags"] == ""


def test_an_item_slower_in_its_energy_window_than_its_latency_is_flagged(fake_nvml):
    """Energy per inference is taken at the window's pace; when that is not the pace latency_ms was timed at
    (host-bound networks on a GPU drift between phases), the row says so instead of pairing the two silently."""
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        steady = step_response(sensor, gpu, latency_s=0.004)
        slower = measure_energy(lambda n: gpu.run_for(n * 0.006), 0.004, sensor)
    assert "latency_shifted" not in steady["power_flags"]
    assert "latency_shifted" in slower["power_flags"].split(",")
    assert slower["energy_mj"] == pytest.approx(700.0 * 0.006 * 1000, rel=0.02)  # at the pace it ran


def test_window_shorter_than_the_update_period_is_never_zero(fake_nvml):
    fake_nvml.gpus[0].update_s = 0.5
    fake_nvml.gpus[0].instant_scopes = ()  # nothing else to fall back on
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.update_period_s >= 0.1
        sensor.start_window()
        result = sensor.stop_window()
    assert "short_window" in result.flags
    assert result.energy_j is None and "no_energy" in result.flags


def test_averaged_power_usage_is_never_used_as_energy_beside_a_counter(fake_nvml):
    gpu = fake_nvml.gpus[0]
    gpu.instant_scopes = ()
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.metadata()["power_field"] == "power_usage"
        assert sensor.metadata()["power_samples_instantaneous"] is False
        result = step_response(sensor, gpu)
    assert result["dynamic_energy_mj"] == pytest.approx(630.0 * 4, rel=0.02)


def test_without_a_counter_instant_power_gives_the_energy(fake_nvml):
    fake_nvml.gpus[0].has_counter = False
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.source == "nvml:0:power_instant"
        result = window(sensor, fake_nvml.gpus[0], 2.5)
    assert result.power_w == pytest.approx(70.0, rel=0.02)


def test_module_scope_power_field_on_grace_hopper(fake_nvml):
    """Item 11: field 186 answers only at module scope; it is read there and not cross-checked with the counter."""
    fake_nvml.gpus[0].instant_scopes = (1,)
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.metadata()["power_field"] == "power_instant_module"
        assert sensor.metadata()["counter_cross_check"].startswith("off: field 186 answers only at module scope")
        result = window(sensor, fake_nvml.gpus[0], 1.0)
    assert result.samples and "counter_vs_samples" not in result.metadata


def test_mig_mode_is_refused_without_cuda_visible_devices(fake_nvml, monkeypatch, tmp_path):
    """Item 1: a slice exposed through NVIDIA_VISIBLE_DEVICES must not be charged the whole GPU's energy."""
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("NVIDIA_VISIBLE_DEVICES", "MIG-0c1d")
    fake_nvml.gpus[0].mig_mode = 1
    with pytest.raises(SensorUnavailable, match="MIG mode.*NVIDIA_VISIBLE_DEVICES=MIG-0c1d.*other tenants"):
        NvmlSensor("cuda:0")
    sensor = open_sensor("auto", "cuda:0")
    assert not sensor.available and "MIG mode" in sensor.reason
    assert fake_nvml.init_count == 0


def test_mig_uuid_reported_by_cuda_is_refused(fake_nvml, monkeypatch):
    fake_nvml.gpus[0].mig_mode = 1
    fake_nvml.gpus[0].mig_uuids = ("MIG-5f3a-0000",)
    monkeypatch.setattr(nvml, "_torch_uuid", lambda index: "5f3a-0000")  # CUDA gives the slice's UUID, bare
    with pytest.raises(SensorUnavailable, match="MIG instance MIG-5f3a-0000"):
        NvmlSensor("cuda:0")


def test_uuid_from_cuda_opens_only_that_gpu(fake_nvml, monkeypatch):
    """Item 5: another GPU this job may not touch (cgroup) does not stop the one it uses."""
    fake_nvml.gpus[0].handle_error = NVML_ERROR_NO_PERMISSION
    monkeypatch.setattr(nvml, "_torch_uuid", lambda index: "bbbb1111-1111")
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.name == "Fake GPU one" and sensor.source == "nvml:1:total_energy"
        assert sensor.mapping == "matched by UUID reported by CUDA"


@pytest.mark.parametrize(
    "fault, error, message",
    [
        ("handle_error", NVML_ERROR_NO_PERMISSION, "Insufficient Permissions.*allocated to this job"),
        ("query_error", NVML_ERROR_GPU_IS_LOST, "GPU is lost.*nvidia-smi"),
    ],
)
def test_inaccessible_gpu_is_a_reason_not_a_traceback(fake_nvml, monkeypatch, tmp_path, fault, error, message):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    setattr(fake_nvml.gpus[0], fault, error)
    sensor = open_sensor("auto", "cuda:0")
    assert not sensor.available and sensor.reason.startswith("the GPU of cuda:0 is unavailable, because")
    assert __import__("re").search(message, sensor.reason)
    with pytest.raises(HwprofError, match="power=nvml cannot be used: the GPU of cuda:0 is unavailable"):
        open_sensor("nvml", "cuda:0")
    assert open_sensor("auto", "cuda:1").available  # the other GPU is still measured
    assert fake_nvml.init_count == 1  # the sensor on cuda:1, left open above
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb")  # a UUID prefix: the broken GPU is skipped
    assert NvmlSensor("cuda:0").name == "Fake GPU one"


def test_other_processes_on_the_gpu_are_counted_and_flagged(fake_nvml):
    """Item 10: someone else's kernels pollute latency and energy; the row says so."""
    gpu = fake_nvml.gpus[0]
    gpu.processes = [os.getpid()]
    with NvmlSensor("cuda:0") as sensor:
        alone = step_response(sensor, gpu)
        gpu.processes = [os.getpid(), 4242, 4343]
        shared = step_response(sensor, gpu)
        assert sensor.other_processes() == 2
    assert alone["gpu_other_processes"] == 0 and "other_gpu_processes" not in alone["power_flags"]
    assert shared["gpu_other_processes"] == 2 and "other_gpu_processes" in shared["power_flags"].split(",")


def test_poller_runs_only_inside_windows(fake_nvml):
    """Item 8: between windows (while latency is timed) no NVML call is made."""
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        calls = fake_nvml.calls
        gpu.run_for(5.0)  # latency sampling
        assert fake_nvml.calls == calls
        result = window(sensor, gpu, 1.0, busy=True)
        assert fake_nvml.calls > calls + 50  # polled every 10 ms inside the window
    assert len(result.samples) >= 90


def test_provenance_carries_the_driver_and_clock_settings(fake_nvml):
    fake_nvml.gpus[0].applications_sm_mhz = 1410
    with NvmlSensor("cuda:0") as sensor:
        meta = sensor.metadata()
    assert meta["driver_version"] == "550.54.15" and meta["persistence_mode"] == 1
    assert meta["applications_clocks_mhz"]["sm"] == 1410
    assert meta["locked_clocks"].startswith("unreadable") and meta["poll_outside_windows"] is False


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
        gpu.run_for(n * latency_s)

    with NvmlSensor("cuda:0") as sensor:
        result = measure_energy(run, latency_s, sensor)
        needed = required_window_s(sensor)
    assert calls[0] * latency_s >= sensor.response_s  # the warm-up under load
    assert calls[1] * latency_s >= needed  # the load window
    assert result["power_source"] == "nvml:0:total_energy"


def test_a_gpu_lost_after_it_opened_is_a_reason(fake_nvml):
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        gpu.query_error = NVML_ERROR_GPU_IS_LOST
        with pytest.raises(SensorUnavailable, match="GPU 0 is unavailable, because NVML answered 'GPU is lost'"):
            step_response(sensor, gpu)


@pytest.mark.parametrize(
    "order, visible, torch_uuid, certain",
    [
        (None, None, None, False),  # CUDA numbers fastest first, NVML in PCI order
        (None, "1,0", None, False),
        ("PCI_BUS_ID", "1,0", None, True),
        (None, "GPU-bbbb", None, True),
        (None, None, "bbbb1111-1111", True),
    ],
)
def test_an_index_mapping_is_marked_uncertain_unless_in_pci_order(
    fake_nvml, monkeypatch, order, visible, torch_uuid, certain
):
    """Item 11: with two GPUs, cuda:N = NVML N holds only in PCI order."""
    if order:
        monkeypatch.setenv("CUDA_DEVICE_ORDER", order)
    else:
        monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    if visible:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    monkeypatch.setattr(nvml, "_torch_uuid", lambda index: torch_uuid)
    with NvmlSensor("cuda:0") as sensor:
        assert sensor.metadata()["device_mapping_certain"] is certain


def test_without_warm_up_and_settle_the_tail_is_read_as_idle(fake_nvml, monkeypatch):
    """The step-response test can fail: with the device taken as instant, the decay tail spoils idle."""
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        monkeypatch.setattr(sensor, "response_s", 0.0)
        results = [step_response(sensor, gpu) for _ in range(2)]
    assert results[-1]["idle_power_w"] > 1.2 * 70.0
    assert abs(results[-1]["dynamic_energy_mj"] / (630.0 * 4) - 1) > 0.05


def test_a_gpu_that_never_settles_is_flagged(fake_nvml):
    gpu = fake_nvml.gpus[0]
    gpu.decay_s = 5.0  # a tail far longer than the settle allows
    with NvmlSensor("cuda:0") as sensor:
        result = step_response(sensor, gpu)
    assert "idle_not_settled" in result["power_flags"].split(",")


def test_overlapping_windows_keep_the_poller_until_the_last_closes(fake_nvml):
    """Windows from marks (EnergyMonitor's nested windows) poll from the first opened to the last closed."""
    gpu = fake_nvml.gpus[0]
    with NvmlSensor("cuda:0") as sensor:
        outer = sensor.mark()
        gpu.run_for(0.5)
        inner = sensor.mark()
        gpu.run_for(0.5)
        inner_window = sensor.window_since(inner)
        calls = fake_nvml.calls
        gpu.run_for(0.5)
        assert fake_nvml.calls > calls  # the outer window is still open: still polled
        outer_window = sensor.window_since(outer)
        calls = fake_nvml.calls
        gpu.run_for(0.5)
        assert fake_nvml.calls == calls  # none open: no NVML call
    assert len(outer_window.samples) > len(inner_window.samples) > 30
