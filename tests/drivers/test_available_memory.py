"""Memory this process may still allocate: a container's cgroup or `ulimit -v` leaves less than the machine has,
and an OOM kill there would end a run without a sentence."""

import resource
import sys
from collections import namedtuple

import psutil
import pytest

from hwprof.drivers import host

GIB = 2**30
Memory = namedtuple("Memory", "available")


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A fake host with 64 GiB available, no address-space limit and a process of 1 GiB."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/status").write_text(f"Name:\tpython\nVmSize:\t{GIB // 1024} kB\nVmRSS:\t 1000 kB\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(64 * GIB))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return tmp_path


def cgroup_files(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "sys/fs/cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def test_without_limits_the_machines_available_memory_is_the_room(root):
    (root / "proc/self/cgroup").write_text("0::/\n")
    assert host.available_memory_bytes() == 64 * GIB


def test_a_cgroup_v2_limit_leaves_its_room_the_tightest_of_the_cgroup_and_its_parents(root):
    (root / "proc/self/cgroup").write_text("0::/box/job\n")
    cgroup_files(
        root,
        {
            "box/memory.max": str(8 * GIB),
            "box/memory.current": str(5 * GIB),  # 3 GiB left for the box
            "box/job/memory.max": "max",
            "box/job/memory.current": str(4 * GIB),
        },
    )
    assert host.available_memory_bytes() == 3 * GIB
    cgroup_files(root, {"box/memory.max": "max", "box/job/memory.max": str(6 * GIB)})
    assert host.available_memory_bytes() == 2 * GIB
    cgroup_files(root, {"box/job/memory.max": "max"})
    assert host.available_memory_bytes() == 64 * GIB


def test_a_cgroup_v1_limit_counts_and_its_unlimited_value_does_not(root):
    (root / "proc/self/cgroup").write_text("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    cgroup_files(
        root,
        {
            "memory/docker/abc/memory.limit_in_bytes": str(4 * GIB),
            "memory/docker/abc/memory.usage_in_bytes": str(3 * GIB),
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": str(100 * GIB),
        },
    )
    assert host.available_memory_bytes() == GIB
    cgroup_files(root, {"memory/docker/abc/memory.limit_in_bytes": "9223372036854771712"})
    assert host.available_memory_bytes() == 64 * GIB


def test_rlimit_as_leaves_the_limit_less_the_address_space_already_mapped(root, monkeypatch):
    (root / "proc/self/cgroup").write_text("0::/\n")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (5 * GIB, resource.RLIM_INFINITY))
    assert host.available_memory_bytes() == 4 * GIB  # VmSize is 1 GiB
    monkeypatch.setattr(resource, "getrlimit", lambda which: (GIB // 2, resource.RLIM_INFINITY))
    assert host.available_memory_bytes() == 0  # already past it: no room, never a negative count


def test_a_host_without_the_resource_module_reads_the_rest(root, monkeypatch):
    (root / "proc/self/cgroup").write_text("0::/\n")
    cgroup_files(root, {"memory.max": str(2 * GIB), "memory.current": str(GIB)})
    monkeypatch.setitem(sys.modules, "resource", None)  # Windows: `import resource` fails
    assert host.available_memory_bytes() == GIB
