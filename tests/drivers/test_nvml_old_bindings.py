"""The deprecated `pynvml` package (up to 11.5) installs a pynvml/ folder that shadows nvidia-ml-py's pynvml.py and
has no NVML_FI_DEV_POWER_INSTANT: GPU power then falls back to nvmlDeviceGetPowerUsage and says why, and bindings
that lack what hwprof needs are refused in one sentence with the fix, never an AttributeError."""

import json
import re

import pytest
from click.testing import CliRunner

import hwprof
from fakes.fake_pynvml import FakeGpu, install
from hwprof.cli import main
from hwprof.drivers import nvml
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.nvml import NvmlSensor

FIX = "pip uninstall pynvml && pip install -U nvidia-ml-py"


@pytest.fixture
def old_bindings(sysfs_root, monkeypatch):
    """One GPU at a flat 70 W behind bindings that predate field 186, as pynvml 11.5.0 does; no CUDA here."""
    monkeypatch.setattr("hwprof.measuring.session.resolve_device", lambda device: None)
    monkeypatch.setattr(hwprof.EnergyMonitor, "_synchronise", lambda monitor: None)
    module = install(monkeypatch, [FakeGpu(idle_w=70.0)])
    module.__version__ = "11.5.0"
    del module.NVML_FI_DEV_POWER_INSTANT
    return module


def test_the_sensor_falls_back_to_power_usage_and_notes_the_old_bindings(old_bindings):
    with NvmlSensor("cuda:0") as sensor:
        metadata = sensor.metadata()
    assert metadata["power_field"] == "power_usage" and metadata["source"] == "nvml:0:total_energy"
    assert metadata["counter_cross_check"].startswith("off: no instantaneous power")
    (note,) = metadata["notes"]
    assert "pynvml 11.5.0" in note and "NVML_FI_DEV_POWER_INSTANT" in note and note.endswith(f"run `{FIX}`")


def test_energy_window_measures_the_gpu_with_old_bindings(old_bindings):
    with hwprof.energy_window("cuda:0", power="nvml") as cost:
        old_bindings.clock.sleep(2.5)
    assert cost.unavailable_reason is None and cost.source == "nvml:0:total_energy"
    assert cost.power_w == pytest.approx(70.0, rel=0.05)


def test_devices_lists_the_gpu_with_old_bindings_and_says_how_to_upgrade(old_bindings):
    result = CliRunner().invoke(main, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    (gpu,) = [entry for entry in json.loads(result.output)["sensors"] if entry["sensor"] == "nvml"]
    assert gpu["usable"] and gpu["power_field"] == "power_usage" and FIX in gpu["note"]
    text = CliRunner().invoke(main, ["devices"])
    assert text.exit_code == 0 and "note:" in text.output and FIX in text.output


@pytest.mark.parametrize("missing", ["nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetFieldValues"])
def test_bindings_without_a_call_hwprof_needs_are_refused_with_the_fix(old_bindings, missing):
    delattr(old_bindings, missing)
    with pytest.raises(SensorUnavailable, match=f"too old: they lack {missing}, .*run `{re.escape(FIX)}`$"):
        nvml.load_pynvml()
    assert old_bindings.init_count == 0
    result = CliRunner().invoke(main, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    (gpu,) = [entry for entry in json.loads(result.output)["sensors"] if entry["sensor"] == "nvml"]
    assert not gpu["usable"] and missing in gpu["reason"]
