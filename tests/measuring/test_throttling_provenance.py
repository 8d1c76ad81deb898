"""A run records how often its cgroup's CPU quota stopped it, and for how long, since its latencies include those
stops: the change in the cgroup's cpu.stat from the run's start (collect_provenance) to its end (end_facts), the
most held-back level of the process's cgroup and its parents; None where the counters cannot be read."""

import pytest

import hwprof
from fakes.sysfs import write_file
from hwprof.measuring.provenance import collect_provenance, end_facts

STAT = "usage_usec 9000000\nnr_periods 400\nnr_throttled {periods}\nthrottled_usec {usec}\n"


def quota_stat(root, periods: int, usec: int) -> None:
    write_file(root / "sys/fs/cgroup/box/job/cpu.stat", STAT.format(periods=periods, usec=usec))


def test_the_runs_throttling_is_recorded_as_it_ends(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "0::/box/job\n")
    quota_stat(sysfs_root, 10, 500_000)  # before the run: not its own
    collect_provenance("cpu", 1, ["hwprof"])
    quota_stat(sysfs_root, 73, 1_700_000)
    facts = end_facts()
    assert facts["cpu_throttled_periods"] == 63 and facts["cpu_throttled_s"] == 1.2


@pytest.mark.filterwarnings("ignore:other processes took:hwprof.errors.HwprofWarning")  # a busy test machine
def test_a_run_in_memory_records_it_too(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "0::/box/job\n")
    quota_stat(sysfs_root, 0, 0)
    run = {"max_item_s": 0.05, "sweep_share": 0, "power": "none", "max_other_share": 1.0, "seed": 0, "layers": False}
    (provenance,) = hwprof.measure("mlp", **run).attrs["provenance"]
    assert provenance["cpu_throttled_periods"] == 0 and provenance["cpu_throttled_s"] == 0.0


def test_unreadable_counters_record_none(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "0::/box/job\n")  # no cpu.stat in the tree
    collect_provenance("cpu", 1, ["hwprof"])
    facts = end_facts()
    assert facts["cpu_throttled_periods"] is None and facts["cpu_throttled_s"] is None
