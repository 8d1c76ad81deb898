"""On Windows NVML is nvml.dll, shipped with the NVIDIA driver: a missing or stopped driver is not fixed by
libnvidia-ml.so.1, the container toolkit's `--gpus all` or `sudo modprobe nvidia`."""

import platform
import sys
from types import SimpleNamespace

import pytest

from fakes.fake_pynvml import NVML_ERROR_DRIVER_NOT_LOADED, NVML_ERROR_LIBRARY_NOT_FOUND, make_fake_pynvml
from fakes.sysfs import write_file
from hwprof.drivers import nvml

LINUX_ADVICE = ("libnvidia-ml.so", "--gpus", "modprobe", "container")


@pytest.fixture
def windows(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    write_file(tmp_path / "proc" / "device-tree" / "compatible", "")  # not a Tegra, whatever this machine is
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(platform, "system", lambda: "Windows")


@pytest.mark.parametrize("code", [NVML_ERROR_LIBRARY_NOT_FOUND, NVML_ERROR_DRIVER_NOT_LOADED])
def test_windows_is_told_to_install_the_nvidia_driver_without_linux_advice(windows, code):
    reason = nvml.init_failure_reason(make_fake_pynvml(), SimpleNamespace(value=code))
    assert "install or update the NVIDIA driver" in reason
    assert not [word for word in LINUX_ADVICE if word in reason], reason


def test_a_missing_library_on_windows_names_nvml_dll(windows):
    reason = nvml.init_failure_reason(make_fake_pynvml(), SimpleNamespace(value=NVML_ERROR_LIBRARY_NOT_FOUND))
    assert "nvml.dll" in reason and "System32" in reason
