"""A cgroup's CPU quota stops the process for the rest of a period once its share is spent, which /proc/stat does
not show: the runner reads the cgroup's cpu.stat (v2's throttled_usec, v1's throttled_time in ns, the process's
cgroup and each parent, below HWPROF_SYSFS_ROOT) around each window, and discards a burst taken while the quota
stopped the process as it does a contended one."""

from fakes.sysfs import write_file
from hwprof.measuring import runner as runner_module
from hwprof.measuring.runner import Item, Method, Runner
from hwprof.measuring.throttling import Throttling, read_throttling, throttling_between

V2_STAT = "usage_usec 9000000\nnr_periods 400\nnr_throttled {periods}\nthrottled_usec {usec}\n"
V1_STAT = "nr_periods 400\nnr_throttled {periods}\nthrottled_time {ns}\n"


def test_cgroup_v2_counters_are_read_for_the_cgroup_and_its_parents(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "0::/box/job\n")
    write_file(sysfs_root / "sys/fs/cgroup/cpu.stat", "usage_usec 1\n")  # the root counts no throttling
    write_file(sysfs_root / "sys/fs/cgroup/box/cpu.stat", V2_STAT.format(periods=5, usec=250000))
    write_file(sysfs_root / "sys/fs/cgroup/box/job/cpu.stat", V2_STAT.format(periods=0, usec=0))
    before = read_throttling()
    assert before == {
        f"{sysfs_root}/sys/fs/cgroup/box": Throttling(5, 0.25),
        f"{sysfs_root}/sys/fs/cgroup/box/job": Throttling(0, 0.0),
    }
    write_file(sysfs_root / "sys/fs/cgroup/box/cpu.stat", V2_STAT.format(periods=68, usec=1450000))
    change = throttling_between(before, read_throttling())
    assert change.periods == 63 and abs(change.throttled_s - 1.2) < 1e-9  # the parent's quota stopped it


def test_cgroup_v1_counters_are_read_in_nanoseconds(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n")
    stat = sysfs_root / "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.stat"
    write_file(stat, V1_STAT.format(periods=2, ns=30_000_000))
    assert read_throttling() == {str(stat.parent): Throttling(2, 0.03)}


def test_no_cgroup_reads_as_unknown(sysfs_root):
    write_file(sysfs_root / "proc/self/cgroup", "0::/box\n")
    assert read_throttling() is None
    assert throttling_between(None, None) is None


class Quota:
    """cpu.stat's counters, rising with each call of the item while the quota is `on`, as a quota that stops a
    process mid-burst would; never while the runner sleeps."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.periods = 0

    def call(self) -> None:
        if self.on:
            self.periods += 1

    def read(self) -> dict[str, Throttling]:
        return {"/sys/fs/cgroup/job": Throttling(self.periods, 0.07 * self.periods)}


def measure_with(quota: Quota, monkeypatch) -> tuple[list, list]:
    """One item timed under `quota`, which lifts after the first window is judged: the result, and the number
    of the item's bursts in each window judged."""
    monkeypatch.setattr(runner_module, "read_throttling", quota.read, raising=False)  # new with the fix
    monkeypatch.setattr(runner_module, "timer_resolution_s", lambda: 1e-9)
    settle = Runner._settle
    bursts = []

    def settle_then_lift_the_quota(self, window, finish):
        bursts.append(len(window.bursts))
        settle(self, window, finish)
        quota.on = False

    monkeypatch.setattr(Runner, "_settle", settle_then_lift_the_quota)
    # the load never decides here: only the quota's counters do
    method = Method(precision=0.5, max_item_s=0.3, min_sample_s=1e-4, max_other_share=100.0, seed=1)
    results = Runner(method).measure([Item("a", quota.call)])
    return results, bursts


def test_a_burst_the_quota_stopped_is_discarded_and_waited_out(monkeypatch):
    (result,), bursts = measure_with(Quota(on=True), monkeypatch)
    assert bursts[0] >= 1
    assert result.discarded_bursts == bursts[0]  # every burst of the first window, and only those
    assert result.summary.n >= 1  # later windows, unthrottled, are kept


def test_bursts_the_quota_did_not_stop_are_kept(monkeypatch):
    (result,), bursts = measure_with(Quota(on=False), monkeypatch)
    assert bursts and result.discarded_bursts == 0


def test_a_quota_below_the_threads_stops_every_burst_and_none_is_discarded(monkeypatch):
    """Below the threads it runs, the quota stops every window: waiting buys nothing, so the bursts are kept (the
    stops are recorded and said), not discarded up to the item's allowance, which doubled a run for nothing."""
    monkeypatch.setattr(runner_module, "quota_below_threads", lambda: True)
    (result,), bursts = measure_with(Quota(on=True), monkeypatch)
    assert bursts[0] >= 1 and result.discarded_bursts == 0
