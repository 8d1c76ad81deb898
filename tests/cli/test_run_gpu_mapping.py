"""`hwprof run --device cuda:N` reads the GPU the command runs on: CUDA numbers GPUs fastest first, NVML in PCI
order, so only the UUID CUDA gives the device tells which GPU NVML must read."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from hwprof.cli import main

TESTS = Path(__file__).resolve().parents[1]

# A fresh `hwprof run`, as from a shell: torch is not loaded until hwprof loads it, and then sees NVML's GPU 1 (the
# fastest) as cuda:0.
LAUNCHER = """
import importlib.abc, importlib.machinery, sys, types
sys.path.insert(0, sys.argv.pop(1))
from fakes.fake_pynvml import FakeGpu, make_fake_pynvml

GPUS = [("Fake GPU slow", "GPU-aaaa0000-0000"), ("Fake GPU fast", "GPU-bbbb1111-1111")]
CUDA_ORDER = [1, 0]  # cuda:N is NVML's GPU CUDA_ORDER[N]
nvml = make_fake_pynvml([FakeGpu(name=name, uuid=uuid) for name, uuid in GPUS])
sys.modules["pynvml"] = nvml


class CudaOfTheFake(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            gpu = lambda index: GPUS[CUDA_ORDER[index]]
            module.cuda.is_available = lambda: True
            module.cuda.device_count = lambda: len(GPUS)
            module.cuda.get_device_name = lambda index=0: gpu(index)[0]
            module.cuda.get_device_properties = lambda index: types.SimpleNamespace(
                name=gpu(index)[0], uuid=gpu(index)[1].removeprefix("GPU-")
            )

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, CudaOfTheFake())
from hwprof.drivers import base

base.REAL_CLOCK = nvml.clock
from hwprof.cli import main

assert "torch" not in sys.modules
main(sys.argv[1:])
"""


@pytest.mark.slow
def test_cuda_0_reads_the_gpu_cuda_calls_0_not_nvmls_gpu_0(sysfs_root, monkeypatch):
    """run opened the sensor before torch was loaded, so NVML's GPU 0 was read for cuda:0 (CUDA's fastest, NVML's
    GPU 1), with no warning, and the row named the GPU that was not read."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    command = ["run", "--device", "cuda:0", "--power", "nvml", "--idle-s", "0", "--json", "--", "true"]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(TESTS), *command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stderr)
    assert (summary["power_source"], summary["device_name"]) == ("nvml:1:total_energy", "Fake GPU fast")
    assert summary["notes"] == []  # matched by UUID: nothing to warn of


def test_a_gpu_taken_by_index_among_several_is_warned_of(sysfs_root, monkeypatch):
    """Where CUDA gives no UUID (an old torch), the GPU is taken by index: run said nothing, measure warns."""
    from fakes.fake_pynvml import FakeGpu, install
    from hwprof.drivers import nvml

    install(monkeypatch, [FakeGpu(uuid="GPU-aaaa0000-0000"), FakeGpu(uuid="GPU-bbbb1111-1111")])
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    monkeypatch.setattr(nvml, "_torch_uuid", lambda index: None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: "Fake GPU")
    args = ["run", "--device", "cuda:1", "--power", "nvml", "--idle-s", "0", "--json", "--", "true"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (note,) = json.loads(result.stderr)["notes"]
    assert note.startswith("power: nvml:1:total_energy is taken to be cuda:1 by index (cuda index taken as NVML")
    assert note.endswith("set CUDA_DEVICE_ORDER=PCI_BUS_ID to be sure")
    text = CliRunner().invoke(main, [arg for arg in args if arg != "--json"]).stderr
    assert "is taken to be cuda:1 by index" in text
