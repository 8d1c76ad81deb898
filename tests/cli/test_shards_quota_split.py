"""The shards' thread split counts a cgroup's CPU quota, not only the CPUs the affinity mask shows."""

import os

from hwprof.cli import shards


def quota_of(tmp_path, monkeypatch, cpu_max: str) -> None:
    """A 16-CPU host seen from a cgroup v2 container whose cpu.max is `cpu_max`."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text("0::/box\n")
    (tmp_path / "sys/fs/cgroup/box").mkdir(parents=True)
    (tmp_path / "sys/fs/cgroup/cpu.max").write_text("max 100000\n")
    (tmp_path / "sys/fs/cgroup/box/cpu.max").write_text(cpu_max + "\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)


def test_a_container_limited_to_two_cpus_splits_two_not_sixteen(tmp_path, monkeypatch):
    """It split the host's 16 CPUs: 8 threads for each of 2 shards, on 2 CPUs."""
    quota_of(tmp_path, monkeypatch, "200000 100000")
    assert shards.shard_threads(None, 2) == 1
    assert shards.shard_threads(5, 2) == 5  # --threads as given


def test_a_fractional_quota_is_rounded_up_and_no_quota_leaves_the_mask(tmp_path, monkeypatch):
    quota_of(tmp_path, monkeypatch, "450000 100000")  # 4.5 CPUs: 5, as measure caps its threads
    assert shards.shard_threads(None, 1) == 5
    (tmp_path / "sys/fs/cgroup/box/cpu.max").write_text("max 100000\n")
    assert shards.shard_threads(None, 2) == 8
