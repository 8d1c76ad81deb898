"""A CPU whose flags cannot be read (macOS, a container without /proc/cpuinfo) is not said to lack native
float16/bfloat16: whether it has them is not known."""

import pytest
import torch

from fakes.sysfs import write_file
from hwprof.measuring import execution as execution_module
from hwprof.measuring.execution import Execution

CPU = torch.device("cpu")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_unreadable_cpu_flags_leave_native_precision_unknown(dtype, monkeypatch):
    monkeypatch.setattr(execution_module, "read_text", lambda path: None)
    execution = Execution(dtype)
    assert execution.fast_precision(CPU) == (None, "")
    assert execution.warnings(CPU) == []
    record = execution.provenance(CPU)
    assert record["native_precision"] is None and record["native_precision_reason"] is None


def test_cpuinfo_without_flags_is_unknown_and_flags_without_half_precision_are_not_native(sysfs_root):
    write_file(sysfs_root / "proc" / "cpuinfo", "processor\t: 0\nmodel name\t: Fake CPU 9000\n")
    assert Execution("float16").fast_precision(CPU) == (None, "")
    write_file(sysfs_root / "proc" / "cpuinfo", "processor\t: 0\nFeatures\t: fp asimd\n")
    native, reason = Execution("float16").fast_precision(CPU)
    assert native is False and "no native float16" in reason
