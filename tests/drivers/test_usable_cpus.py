"""The CPUs a process may use (taskset, a container's cpuset, a cgroup quota), not only the machine's, in the
provenance, `hwprof devices` and the shards' thread share."""

import json
import os

from click.testing import CliRunner

from hwprof.cli import main, shards
from hwprof.drivers import host
from hwprof.measuring.provenance import collect_provenance


def pin_to_one_cpu_of_eight(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)


def test_provenance_records_the_machines_cpus_and_the_usable_ones(monkeypatch):
    pin_to_one_cpu_of_eight(monkeypatch)
    record = collect_provenance("cpu", 1, ["hwprof"])
    assert record["cpu_count"] == 8 and record["usable_cpus"] == 1


def test_devices_shows_the_cpus_this_process_may_use(monkeypatch):
    pin_to_one_cpu_of_eight(monkeypatch)
    (cpu,) = [
        d for d in json.loads(CliRunner().invoke(main, ["devices", "--json"]).output)["devices"] if d["kind"] == "cpu"
    ]
    assert cpu["logical_cpus"] == 8 and cpu["usable_cpus"] == 1  # logical_cpus keeps its meaning for scripts
    assert "8 logical CPUs (1 usable by this process)" in CliRunner().invoke(main, ["devices"]).output


def test_shards_divide_the_usable_cpus(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(shards, "cpu_quota", lambda: None)  # a CI runner's own quota would divide fewer
    assert shards.shard_threads(None, 2) == 2


def test_a_cgroup_quota_is_read_as_cpus_the_tightest_of_the_cgroup_and_its_parents(tmp_path, monkeypatch):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text("0::/box/job\n")
    for folder, text in (("", "max 100000"), ("box", "150000 100000"), ("box/job", "max 100000")):
        (tmp_path / "sys/fs/cgroup" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "sys/fs/cgroup" / folder / "cpu.max").write_text(text + "\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    assert host.cpu_quota() == 1.5
    (tmp_path / "sys/fs/cgroup/box/cpu.max").write_text("max 100000\n")
    assert host.cpu_quota() is None


def test_a_cgroup_v1_quota_is_read_too(tmp_path, monkeypatch):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text("4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n")
    folder = tmp_path / "sys/fs/cgroup/cpu,cpuacct/docker/abc"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("100000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    assert host.cpu_quota() == 1.0
    (folder / "cpu.cfs_quota_us").write_text("-1\n")
    assert host.cpu_quota() is None
