"""How a measure run treats a GPU: energy after the latency work, cold caches, long samples on CUDA."""

import pytest
import torch

from fakes.scripted_sensor import ScriptedSensor
from hwprof.errors import HwprofError
from hwprof.measuring import session
from hwprof.measuring.cache import COLD_FACTOR, copies_for, rotating_call
from hwprof.measuring.runner import Method, Runner
from hwprof.measuring.session import CUDA_MIN_SAMPLE_S, MeasureOptions, measure, method_for
from hwprof.models.layers import LayerCall, TensorSpec

FAST = {"precision": 0.3, "max_item_s": 0.2, "seed": 0, "threads": 1}


@pytest.mark.slow
def test_energy_is_measured_after_every_latency_of_the_group(monkeypatch):
    """Item 7: no energy window (with its idle waits) falls between the latency samples of a group."""
    events = []
    sensor = ScriptedSensor().open()
    original_start, original_measure = sensor.start_window, Runner.measure

    def start_window():
        events.append("window")
        original_start()

    def timed(self, items, on_done=None):
        events.append("latency")
        results = original_measure(self, items, on_done)
        events.append("latency done")
        return results

    monkeypatch.setattr(sensor, "start_window", start_window)
    monkeypatch.setattr(Runner, "measure", timed)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: sensor)
    frame = measure(["mlp"], batch_sizes=[1, 2], power="rapl", sweep_share=0, **FAST)  # its groups only
    assert frame["energy_mj"].notna().all() and (frame["power_source"] == "fake:total").all()
    groups = "".join("L" if e == "latency" else "D" if e == "latency done" else "w" for e in events)
    assert groups.count("L") == 2 and all(part.startswith("D") for part in groups.split("L")[1:])
    assert "w" not in "".join(part.split("D")[0] for part in groups.split("L"))  # none while timing


@pytest.mark.slow
def test_cold_cache_rotates_copies_and_is_recorded(monkeypatch, tmp_path):
    """Item 9, on the CPU: rows and provenance say cold, and a layer's calls go through distinct copies."""
    out = tmp_path / "cold.parquet"
    frame = measure(["mlp"], cache="cold", power="none", out=str(out), **FAST)
    layers, network = frame[frame["kind"] == "layer"], frame[frame["kind"] == "network"]
    assert set(layers["cache"]) <= {"cold", "cold_partial"} and len(layers)
    assert network["cache"].isna().all()
    from hwprof.dataset import read_provenance

    record = read_provenance(out)[-1]
    assert record["cache"]["mode"] == "cold" and record["cache"]["cache_bytes"] > 0
    assert record["plan"]["cache"] == "cold"
    warm = measure(["mlp"], cache="warm", power="none", **FAST)
    assert set(warm[warm["kind"] == "layer"]["cache"]) == {"warm"}


READS: list[tuple[int, int]] = []  # (weight, input) addresses each call of a _Recording layer read


class _Recording(torch.nn.Linear):
    def forward(self, x):
        READS.append((self.weight.data_ptr(), x.data_ptr()))
        return super().forward(x)


def test_rotating_call_cycles_through_copies_enough_to_outgrow_the_cache():
    linear = _Recording(64, 64)
    call = LayerCall(linear, (TensorSpec((8, 64), torch.float32),), {})
    layer_bytes = 8 * 64 * 4 * 2 + 64 * 65 * 4
    cache_size = 10 * layer_bytes
    run, label, copies_made = rotating_call(call, torch.device("cpu"), layer_bytes, cache_size)
    copies = copies_for(layer_bytes, cache_size)
    assert copies == copies_made == 2 * 10 and label == "cold" and copies * layer_bytes >= COLD_FACTOR * cache_size
    READS.clear()
    outputs = [run() for _ in range(copies + 1)]
    assert len({id(o) for o in outputs}) > 1
    assert len(set(READS)) == copies and READS[0] == READS[copies]  # the same copy comes round again
    assert len({weight for weight, _ in READS}) == len({x for _, x in READS}) == copies  # each in memory of its own
    assert all(torch.equal(outputs[0], o) for o in outputs)  # copies of one layer on copies of one input
    _, partial, _ = rotating_call(call, torch.device("cpu"), 1, cache_size)  # more copies than allowed
    assert partial == "cold_partial"
    _, short, made = rotating_call(call, torch.device("cpu"), layer_bytes, cache_size, max_copies=5)  # memory
    assert (short, made) == ("cold_partial", 5)


def test_cold_copies_of_a_group_stay_within_a_share_of_free_memory(monkeypatch):
    from hwprof.measuring import cache

    monkeypatch.setattr(session, "available_memory_bytes", lambda device: 4 * 2**20)  # 1 MiB for copies
    monkeypatch.setattr(cache, "cache_bytes", lambda device: (64 * 2**20, "test"))
    frame = measure(["mlp"], cache="cold", power="none", **FAST)
    assert set(frame[frame["kind"] == "layer"]["cache"]) == {"cold_partial"}


def test_cuda_samples_are_long_enough_to_hide_the_synchronisation():
    """Item 11: 2 ms samples leave a 0.5-1.5% sync bias on CUDA; there they last at least 10 ms."""
    options = MeasureOptions()
    assert method_for(options, torch.device("cuda", 0)).min_sample_s == CUDA_MIN_SAMPLE_S >= 0.01
    assert method_for(options, torch.device("cpu")).min_sample_s == Method.min_sample_s
    assert session.MEASUREMENT_COLUMNS[-1] == "cache"


def test_a_sensor_lost_mid_run_ends_power_but_not_the_run(monkeypatch):
    """A GPU that falls off the bus after the first item (the NVML sensor then raises SensorUnavailable)."""
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.measuring import energy
    from hwprof.progress import Notes

    sensor = ScriptedSensor().open()
    real_measure_energy, calls = energy.measure_energy, []

    def measure_energy(*args):
        calls.append(args)
        if len(calls) > 1:
            raise SensorUnavailable("GPU 0 is unavailable, because NVML answered 'GPU is lost'")
        return real_measure_energy(*args)

    monkeypatch.setattr(energy, "measure_energy", measure_energy)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: sensor)
    notes = []
    frame = measure(["mlp"], power="rapl", progress=Notes(notes.append), **FAST)
    assert len(frame) > 2 and frame["latency_ms"].notna().all()
    with_energy = frame["energy_mj"].notna()
    assert 1 <= with_energy.sum() < len(frame) and len(calls) == 2  # no attempt after the loss
    assert any("power measurement stopped: GPU 0 is unavailable" in note for note in notes)


def test_several_devices_from_python_point_to_the_command():
    with pytest.raises(HwprofError, match="device=cuda:0,cuda:1: measure\\(\\) takes one device"):
        measure(["mlp"], device="cuda:0,cuda:1")


def test_an_interruption_during_the_energy_phase_keeps_every_latency(monkeypatch, tmp_path):
    from hwprof.dataset import read_dataset
    from hwprof.measuring import energy

    sensor = ScriptedSensor().open()
    real_measure_energy, calls = energy.measure_energy, []

    def measure_energy(*args):
        calls.append(args)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real_measure_energy(*args)

    monkeypatch.setattr(energy, "measure_energy", measure_energy)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: sensor)
    out = tmp_path / "cut.parquet"
    with pytest.raises(KeyboardInterrupt):
        measure(["mlp"], power="rapl", out=str(out), **FAST)
    frame = read_dataset(out)
    complete = frame[frame["energy_mj"].notna()]
    cut = frame[frame["power_flags"] == "energy_interrupted"]
    assert len(complete) >= 1 and len(cut) >= 1 and len(complete) + len(cut) == len(frame)
    assert frame["latency_ms"].notna().all() and cut["energy_mj"].isna().all()


def test_gpu_state_columns_reach_the_dataset_and_its_provenance(monkeypatch, tmp_path):
    """The NVML sensor on the realistic fake, in a real measure run (a CPU item stands in for GPU work)."""
    import os
    import sys

    from fakes.fake_pynvml import FakeGpu, make_fake_pynvml
    from fakes.sim_clock import SimClock
    from hwprof.dataset import read_dataset, read_provenance
    from hwprof.drivers import base
    from hwprof.drivers.nvml import NvmlSensor

    clock = SimClock(follow_real=True)  # the item's real time passes, the sensor's waits do not
    gpu = FakeGpu(update_s=0.01, processes=[os.getpid(), 4242])
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([gpu], clock=clock))
    monkeypatch.setattr(base, "REAL_CLOCK", clock)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    sensor = NvmlSensor("cuda:0").open()
    monkeypatch.setattr(sensor, "response_s", 0.05)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: sensor)
    gpu.set_busy(True)  # the GPU works throughout: what matters here is what reaches the rows
    out = tmp_path / "gpu.parquet"
    measure(["mlp"], layers=False, power="nvml", out=str(out), **FAST)
    row = read_dataset(out).iloc[0]
    assert row["power_source"] == "nvml:0:total_energy" and row["energy_mj"] > 0
    assert row["gpu_sm_clock_mhz"] == gpu.capped_sm_mhz and row["gpu_mem_clock_mhz"] == gpu.load_mem_mhz
    assert row["gpu_pstate"] == "P0" and row["gpu_clock_event_reasons"] == "SwPowerCap"
    assert row["gpu_temperature_c"] > 60 and row["gpu_other_processes"] == 1
    assert "other_gpu_processes" in row["power_flags"].split(",")
    power = read_provenance(out)[-1]["power"]["sensor"]
    assert power["driver_version"] == "550.54.15" and power["persistence_mode"] == 1


def test_cold_copies_copy_the_drawn_inputs_and_make_strided_ones_anew():
    """Copies need memory of their own, not values of their own; a copy of a transposed input would be dense."""
    seen = []
    call = LayerCall(
        lambda a, b: seen.append((a, b)),
        (TensorSpec((8, 16), torch.float32), TensorSpec((16, 8), torch.float32, strides=(1, 16))),
        {},
    )
    for run in call.bind_copies("cpu", [call.target] * 3):
        run()
    (first, first_t), *others = seen
    assert first_t.stride() == (1, 16)
    for a, b in others:
        assert torch.equal(a, first) and a.data_ptr() != first.data_ptr()
        assert b.stride() == (1, 16) and b.data_ptr() != first_t.data_ptr()
