"""A run records what picks its CPU kernels: torch's CPU capability, oneDNN's switch, its build and the environment
variables that change kernels or threads. ATEN_CPU_CAPABILITY=default made a LayerNorm network 3x slower, and a host
program's torch.backends.mkldnn.enabled = False a conv net 2.4x slower, while no recorded key differed."""

import torch

import hwprof
from hwprof.measuring import provenance
from hwprof.measuring.provenance import collect_provenance

QUICK = dict(max_item_s=0.05, sweep_share=0, power="none", max_other_share=1.0, seed=0, layers=False)


def test_the_cpu_capability_onednn_and_torch_build_are_recorded(sysfs_root):
    record = collect_provenance("cpu", 1, ["x"])
    assert record["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert record["mkldnn_enabled"] is True
    digest = record["torch_config_digest"]
    assert len(digest) == 16 and int(digest, 16) >= 0


def test_a_hosts_onednn_switch_is_measured_under_and_recorded(sysfs_root, monkeypatch):
    """Disabling oneDNN is a host's choice (a workaround, or to match where it deploys): measure keeps it, as it
    keeps TF32 and cudnn.benchmark, and records it."""
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    frame = hwprof.measure("mlp", **QUICK)
    [run] = frame.attrs["provenance"]
    assert run["mkldnn_enabled"] is False
    assert torch.backends.mkldnn.enabled is False


def test_a_torch_without_the_capability_call_records_it_unreadable(sysfs_root, monkeypatch):
    monkeypatch.delattr(torch.backends.cpu, "get_cpu_capability")
    assert collect_provenance("cpu", 1, ["x"])["cpu_capability"] == "unreadable"


def test_only_the_variables_that_change_kernels_or_threads_are_recorded(sysfs_root, monkeypatch):
    for name in list(provenance.kernel_env()):
        monkeypatch.delenv(name)
    assert collect_provenance("cpu", 1, ["x"])["env"] == {}

    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/libjemalloc.so.2")
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("HWPROF_UNRELATED", "1")
    assert collect_provenance("cpu", 1, ["x"])["env"] == {
        "ATEN_CPU_CAPABILITY": "default",
        "DNNL_MAX_CPU_ISA": "AVX2",
        "LD_PRELOAD": "/usr/lib/libjemalloc.so.2",
        "OMP_NUM_THREADS": "4",
    }
