"""NVML's missing library is worded for where it is missing: a Jetson (NVML does not exist there, its rails
measure power) and macOS (no NVIDIA driver at all) are not told to install the NVIDIA driver."""

import platform
from types import SimpleNamespace

import pytest

from fakes.fake_pynvml import NVML_ERROR_LIBRARY_NOT_FOUND, make_fake_pynvml
from fakes.sysfs import write_file
from hwprof.drivers import nvml

NOT_FOUND = SimpleNamespace(value=NVML_ERROR_LIBRARY_NOT_FOUND)


@pytest.fixture
def linux(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    write_file(tmp_path / "proc" / "device-tree" / "compatible", "")  # not a Tegra, whatever this machine is
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    return tmp_path


def test_a_jetson_is_told_that_nvml_does_not_exist_there_and_to_use_its_rails(linux):
    write_file(linux / "etc" / "nv_tegra_release", "# R35 (release), REVISION: 4.1\n")
    reason = nvml.init_failure_reason(make_fake_pynvml(), NOT_FOUND)
    assert "Jetson" in reason and "--power jetson" in reason and "install" not in reason


def test_macos_is_told_it_has_no_nvidia_driver(linux, monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    reason = nvml.init_failure_reason(make_fake_pynvml(), NOT_FOUND)
    assert "macOS has no NVIDIA GPU driver" in reason and "install" not in reason


def test_a_linux_machine_without_the_library_is_told_to_install_the_driver(linux):
    reason = nvml.init_failure_reason(make_fake_pynvml(), NOT_FOUND)
    assert "install the NVIDIA driver" in reason
