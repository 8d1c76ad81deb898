"""`hwprof devices` names each GPU by the cuda:N that `--device` takes, found as the NVML sensor finds the GPU of
cuda:N (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER), and marks the GPUs CUDA_VISIBLE_DEVICES hides as unusable.
No CUDA here: NVML is the fake, and torch is never asked."""

import json

import pytest
from click.testing import CliRunner

from fakes.fake_pynvml import FakeGpu, install
from hwprof.cli import main
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.nvml import NvmlSensor

UUIDS = ["GPU-aaaa", "GPU-bbbb", "GPU-cccc", "GPU-dddd"]


@pytest.fixture
def four_gpus(sysfs_root, tmp_path, monkeypatch):
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return install(monkeypatch, [FakeGpu(uuid=uuid, idle_w=100.0 + 50 * i) for i, uuid in enumerate(UUIDS)])


def devices(*args):
    result = CliRunner().invoke(main, ["devices", *args])
    assert result.exit_code == 0, result.output
    return result.output


def gpus():
    report = json.loads(devices("--json"))
    listed = {d["device"]: d for d in report["devices"] if d["kind"] == "gpu"}
    sensors = {s["device"]: s for s in report["sensors"] if s["sensor"] == "nvml"}
    return listed, sensors


def test_cuda_visible_devices_names_the_gpus_cuda_sees_and_hides_the_rest(four_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    listed, sensors = gpus()
    assert {name: gpu["cuda"] for name, gpu in listed.items()} == {
        "nvml:0": None,
        "nvml:1": "cuda:1",
        "nvml:2": None,
        "nvml:3": "cuda:0",
    }
    assert [name for name, gpu in listed.items() if gpu["hidden_by_cuda_visible_devices"]] == ["nvml:0", "nvml:2"]
    assert [name for name, sensor in sensors.items() if sensor["usable"]] == ["nvml:1", "nvml:3"]
    assert "hidden from CUDA by CUDA_VISIBLE_DEVICES='3,1'" in sensors["nvml:0"]["reason"]
    assert sensors["nvml:3"]["use"].startswith("--device cuda:0 (by index;")
    text = devices()
    assert "nvml:3     NVIDIA Fake H100 (cuda:0 by index)" in text
    assert "nvml:0     NVIDIA Fake H100 (hidden from CUDA by CUDA_VISIBLE_DEVICES)" in text
    with NvmlSensor("cuda:0") as sensor:  # what measure reads for the name devices gives
        assert sensor.index == 3


def test_an_empty_cuda_visible_devices_hides_every_gpu(four_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    listed, sensors = gpus()
    assert all(gpu["cuda"] is None and gpu["hidden_by_cuda_visible_devices"] for gpu in listed.values())
    assert not any(sensor["usable"] for sensor in sensors.values())
    assert all("CUDA_VISIBLE_DEVICES=''" in sensor["reason"] for sensor in sensors.values())


def test_pci_order_or_a_uuid_makes_the_name_certain(four_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    listed, sensors = gpus()
    assert [gpu["cuda"] for gpu in listed.values()] == ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]
    assert all(gpu["cuda_mapping_certain"] for gpu in listed.values())
    assert sensors["nvml:2"]["use"] == "--device cuda:2"
    monkeypatch.delenv("CUDA_DEVICE_ORDER")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-cccc,MIG-eeee")  # a MIG slice is no whole GPU's name
    listed, sensors = gpus()
    assert {name: gpu["cuda"] for name, gpu in listed.items() if gpu["cuda"]} == {"nvml:2": "cuda:0"}
    assert listed["nvml:2"]["cuda_mapping_certain"] and sensors["nvml:2"]["use"] == "--device cuda:0"


@pytest.mark.parametrize("visible", ["1,7,2", "1,GPU-ffff,2"])
def test_cuda_visible_devices_stops_at_the_first_entry_that_names_no_gpu(four_gpus, monkeypatch, visible):
    """CUDA exposes only the devices listed before an index past the GPUs or a UUID no GPU has (CUDA Programming
    Guide, CUDA_VISIBLE_DEVICES): GPU 2, listed after it, has no cuda:N, in the listing and for the sensor."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    listed, sensors = gpus()
    assert {name: gpu["cuda"] for name, gpu in listed.items() if gpu["cuda"]} == {"nvml:1": "cuda:0"}
    assert listed["nvml:2"]["hidden_by_cuda_visible_devices"] and not sensors["nvml:2"]["usable"]
    assert "before any entry that names no GPU" in sensors["nvml:2"]["reason"]  # it is in the list, past the cut
    assert [name for name, sensor in sensors.items() if sensor["usable"]] == ["nvml:1"]
    with pytest.raises(
        SensorUnavailable,
        match=r"exposes 1 device\(s\) \(CUDA stops reading it at '(7', past the 4|GPU-ffff', which matches 0 of the 4)",
    ):
        NvmlSensor("cuda:1")
