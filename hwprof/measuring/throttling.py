"""How often, and for how long, the kernel held this process back for its cgroup's CPU quota.

A quota (docker --cpus, a Kubernetes CPU limit) lets a cgroup run for QUOTA of every PERIOD (100 ms by default),
then stops it until the next period: a timing that spans a stop is the model's time plus the wait. A stopped
process is neither busy nor "other" in /proc/stat, so the runner's load check cannot see it; the kernel counts
the stops in the cgroup's cpu.stat: nr_throttled and throttled_usec (cgroup v2), nr_throttled and throttled_time
in nanoseconds (v1, in the cpu controller's hierarchy). The process's cgroup and each parent are read, below
HWPROF_SYSFS_ROOT as every host fact is, so tests can point it at a fake tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hwprof.drivers.host import cgroup_folders, read_text

CPU_MOUNTS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")  # a cgroup v1 cpu hierarchy's folder names in /sys/fs/cgroup
THROTTLED_TIME = {True: ("throttled_usec", 1e6), False: ("throttled_time", 1e9)}  # by cgroup v2: (field, per s)


@dataclass(frozen=True)
class Throttling:
    """The kernel's count of periods in which a cgroup was stopped for its quota, and the time it was stopped."""

    periods: int
    throttled_s: float


def read_throttling() -> dict[str, Throttling] | None:
    """The throttling counters of the process's cgroup and each parent that has them, by folder; None where none
    can be read (no cgroup, macOS, Windows, a cgroup v2 root, whose cpu.stat counts no throttling)."""
    found = {}
    for v2, folder in cgroup_folders("cpu", CPU_MOUNTS):
        counters = _counters(read_text(Path(f"{folder}/cpu.stat")), v2)
        if counters is not None:
            found[folder] = counters
    return found or None


def throttling_between(before: dict[str, Throttling] | None, after: dict[str, Throttling] | None) -> Throttling | None:
    """The throttling between two readings of read_throttling: the most held-back level's, as a parent's stop
    holds back every cgroup below it, so the levels' counts overlap and are not added up. None where either
    reading is missing or they share no cgroup."""
    if before is None or after is None:
        return None
    changes = [
        Throttling(
            max(0, after[folder].periods - before[folder].periods),
            max(0.0, after[folder].throttled_s - before[folder].throttled_s),
        )
        for folder in before.keys() & after.keys()
    ]
    return max(changes, key=lambda change: (change.throttled_s, change.periods), default=None)


def _counters(text: str | None, v2: bool) -> Throttling | None:
    """nr_throttled and the throttled time of a cpu.stat's "NAME VALUE" lines; None where either is missing."""
    fields = {}
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        fields[name] = value.strip()
    time_field, per_s = THROTTLED_TIME[v2]
    try:
        return Throttling(int(fields["nr_throttled"]), int(fields[time_field]) / per_s)
    except (KeyError, ValueError):
        return None
