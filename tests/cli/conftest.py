"""Shared by the command-line tests: a fake machine root (HWPROF_SYSFS_ROOT) with a CPU that names itself, in
its own folder beside the test's files."""

import pytest

from fakes.sysfs import write_file


@pytest.fixture
def sysfs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path / "host"))
    write_file(tmp_path / "host" / "proc" / "cpuinfo", "model name\t: Fake CPU 9000\nflags\t\t: fpu\n")
    return tmp_path / "host"


@pytest.fixture
def lose_gpu_mid_command(monkeypatch):
    """Call it to give torch and NVML one fake GPU that falls off the bus (NVML: GPU is lost) while the next
    `hwprof run`'s command runs; it returns the fake GPU."""

    def arm():
        import torch

        from fakes.fake_pynvml import NVML_ERROR_GPU_IS_LOST, FakeGpu, install
        from hwprof.measuring import command

        gpu = FakeGpu()
        install(monkeypatch, [gpu])
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU torch sees, as on a server
        monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: False)  # its version would ask the driver
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: "Fake GPU")
        run_to_end = command._run_to_end

        def lost_while_running(argv):
            gpu.query_error = NVML_ERROR_GPU_IS_LOST
            return run_to_end(argv)

        monkeypatch.setattr(command, "_run_to_end", lost_while_running)
        return gpu

    return arm
