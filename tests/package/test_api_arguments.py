"""Bad arguments to the public API end in one HwprofError sentence at the call, never a raw error from inside."""

import pytest
import torch

import hwprof


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_an_energy_window_on_a_missing_gpu_is_refused_before_the_block_runs(no_cuda):
    ran = []
    with pytest.raises(hwprof.HwprofError, match="cuda:0 was asked for, but this torch build sees no CUDA device"):
        with hwprof.energy_window(device="cuda:0"):
            ran.append(True)
    assert not ran


def test_an_energy_monitor_on_a_missing_gpu_is_refused_when_made(no_cuda):
    with pytest.raises(hwprof.HwprofError, match="sees no CUDA device"):
        hwprof.EnergyMonitor(device="cuda")


def test_an_energy_window_on_a_gpu_beyond_the_visible_ones_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(hwprof.HwprofError, match=r"device=cuda:3: only 1 CUDA device\(s\) are visible"):
        hwprof.EnergyMonitor(device="cuda:3")
