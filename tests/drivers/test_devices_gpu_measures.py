"""`hwprof devices` says what each GPU gives NVML: a counter and instantaneous power, a counter alone, power
alone, or nothing, and why a GPU whose only power reads 0 W cannot be measured."""

import json
import sys

from click.testing import CliRunner

from fakes.fake_pynvml import FakeGpu, make_fake_pynvml
from fakes.sim_clock import SimClock
from hwprof.cli import main


def pre_volta(**settings) -> FakeGpu:
    """A Pascal-like GPU: no energy counter, no field 186, an instantaneous nvmlDeviceGetPowerUsage."""
    return FakeGpu(name="Tesla P100", has_counter=False, instant_scopes=(), average_s=0.0, **settings)


def devices_gpus(monkeypatch, tmp_path, gpus):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(gpus, clock=SimClock()))
    result = CliRunner().invoke(main, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    return [s for s in json.loads(result.output)["sensors"] if s["sensor"] == "nvml"]


def test_devices_says_what_each_gpu_gives(monkeypatch, tmp_path):
    """Every GPU was said to give a counter and instantaneous power, a counter-less one too."""
    no_power = pre_volta()
    no_power.missing_symbols = ("nvmlDeviceGetPowerUsage",)
    gpus = [FakeGpu(), FakeGpu(instant_scopes=()), pre_volta(), no_power, pre_volta(idle_w=0.0)]  # answers 0 W
    entries = devices_gpus(monkeypatch, tmp_path, gpus)
    measures = [entry["measures"] for entry in entries]
    assert measures[0] == "GPU energy counter (primary) and instantaneous power (cross-check) through NVML"
    assert measures[1].startswith("GPU energy counter (primary) through NVML; nvmlDeviceGetPowerUsage's power is")
    assert "not a cross-check" in measures[1]
    assert measures[2] == (
        "GPU energy integrated from nvmlDeviceGetPowerUsage's power through NVML (no energy counter)"
    )
    assert [entry["usable"] for entry in entries] == [True, True, True, False, False]
    assert "reports neither" in entries[3]["reason"] and "answers 0 W" in entries[4]["reason"]
    assert entries[4]["source"] is None
