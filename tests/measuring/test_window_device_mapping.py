"""`energy_window` and `EnergyMonitor` warn, as `measure` does, where the GPU sensor was matched to the device by
index only, so may be reading another GPU than the one the code runs on."""

import warnings

import pytest

import hwprof
from fakes.fake_pynvml import FakeGpu, install
from hwprof.errors import HwprofWarning
from hwprof.measuring.window import DeviceMappingWarning


@pytest.fixture
def two_gpus(sysfs_root, monkeypatch):
    monkeypatch.setattr("hwprof.measuring.session.resolve_device", lambda device: None)  # no CUDA here
    monkeypatch.setattr(hwprof.EnergyMonitor, "_synchronise", lambda monitor: None)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    return install(monkeypatch, [FakeGpu(uuid="GPU-aaaa"), FakeGpu(uuid="GPU-bbbb")])


def test_an_index_match_among_several_gpus_is_warned_of(two_gpus):
    with pytest.warns(
        DeviceMappingWarning, match=r"power: nvml:1:total_energy is taken to be cuda:1 by index \("
    ) as seen:
        hwprof.EnergyMonitor("cuda:1", power="nvml").close()
    assert "CUDA_DEVICE_ORDER=PCI_BUS_ID" in str(seen[0].message) and issubclass(seen[0].category, HwprofWarning)
    with pytest.warns(DeviceMappingWarning):
        with hwprof.energy_window("cuda:0", power="nvml"):
            pass


def test_a_sure_match_is_not_warned_of(two_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeviceMappingWarning)
        hwprof.EnergyMonitor("cuda:1", power="nvml").close()
        hwprof.EnergyMonitor("cpu", power="none").close()
