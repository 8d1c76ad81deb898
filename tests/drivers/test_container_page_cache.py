"""A container's memory usage counts the page cache of the files it wrote, which the kernel reclaims before an
OOM kill: one that had written a 1.2 GB file in a 1.5 GB cgroup was told "0.0 GiB is free" and refused. Its room
leaves out the inactive file cache, as docker stats and kubelet's working set do."""

import resource

import psutil
import pytest

from hwprof.drivers import host

GIB = 2**30


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A fake host with 64 GiB available, no address-space limit."""
    (tmp_path / "proc/self").mkdir(parents=True)
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: type("Memory", (), {"available": 64 * GIB})())
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return tmp_path


def cgroup_files(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "sys/fs/cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def test_cgroup_v2_room_leaves_out_the_inactive_file_cache(root):
    (root / "proc/self/cgroup").write_text("0::/box\n")
    cgroup_files(root, {"box/memory.max": str(3 * GIB // 2), "box/memory.current": str(GIB + GIB // 4)})
    assert host.available_memory_bytes() == GIB // 4  # memory.stat unreadable: the usage as it is
    stat = f"anon 0\nfile {GIB + GIB // 4}\nactive_file {GIB // 4}\ninactive_file {GIB}\n"
    cgroup_files(root, {"box/memory.stat": stat})
    assert host.available_memory_bytes() == GIB + GIB // 4
    cgroup_files(root, {"box/memory.stat": f"inactive_file {4 * GIB}\n"})  # never more room than the limit
    assert host.available_memory_bytes() == 3 * GIB // 2


def test_cgroup_v1_room_leaves_out_the_hierarchys_inactive_file_cache(root):
    (root / "proc/self/cgroup").write_text("4:memory:/docker/abc\n0::/\n")
    cgroup_files(
        root,
        {
            "memory/docker/abc/memory.limit_in_bytes": str(3 * GIB // 2),
            "memory/docker/abc/memory.usage_in_bytes": str(GIB + GIB // 4),
            # the cgroup's own inactive_file may be less than its hierarchy's, which the usage counts
            "memory/docker/abc/memory.stat": f"cache {GIB}\ninactive_file 0\ntotal_inactive_file {GIB}\n",
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": str(100 * GIB),
        },
    )
    assert host.available_memory_bytes() == GIB + GIB // 4
    cgroup_files(root, {"memory/docker/abc/memory.stat": "cache 0\n"})  # no such figure: the usage as it is
    assert host.available_memory_bytes() == GIB // 4
