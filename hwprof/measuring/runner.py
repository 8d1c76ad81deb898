"""Time callables to a target precision, interleaved in random order.

Method (after pyperf, torch.utils.benchmark and hyperfine):
1. one cold call, then calibrate the loop count on a warm call so one sample
   lasts at least `min_sample_s` (long against the timer's resolution);
2. warm up until three consecutive samples agree with the three before them
   (at most `max_warmup_s`);
3. take samples in short bursts, visiting the unfinished items in a new random
   order each round, so slow drift (thermal, frequency, neighbours) spreads
   evenly instead of biasing whichever item ran last;
4. stop an item when the 95% interval of its median is within `precision`
   of the median, or when its time budget is spent (then it is not `stable`).
   The budget counts warm-up too: an item whose cold call spent it is not
   warmed up, and a burst is cut to the calls the time left holds (one at
   least). An item that still ran more than OVERRUN_SHARE past its budget (its
   samples long against it: one call, or a calibrated sample of quick calls,
   against a short budget) says so (`over_budget`).
   An item that `spans` the group (a whole network) is not stopped by its
   precision while other items are still being sampled: its samples then come
   from the same stretch of time as its layers', and a slow spell of the
   machine (two-thread runs on a 2-vCPU VM ran whole networks 1.5-2.4x slower
   for seconds to a minute) lands in its interval instead of deciding it.
   Once it has met its precision it is visited at most once per
   `span_visit_s`: spells last seconds, so sparser bursts still sample them,
   and the span costs a fraction of the item's budget rather than all of it.

Around the bursts the runner also notes how much CPU other processes (and a
hypervisor's steal) took: timings from a busy machine are inflated, sometimes
many-fold when threads wait on a descheduled peer. Bursts are judged together
over windows of at least CONTENTION_WINDOW_S (the kernel counts CPU time in
ticks, too coarse for one burst); the bursts of a window in which others held
more than `max_other_share` of the CPUs this process may use (its affinity
mask: a taskset or a container's cpuset; the whole machine where there is
none) are discarded, and the runner waits for a quiet spell before sampling
again. Discarded bursts and waiting may cost
an item at most its own time budget once more (CONTENTION_ALLOWANCE); after
that its bursts are kept whatever the load, and `other_cpu_share` says how much
others took. Where the machine's CPU times cannot be read (/proc/stat closed on
Android or in a hardened sandbox), the load is not judged: no burst is discarded
for load, `other_cpu_share` is None, and the runner warns once.

A cgroup's CPU quota stops the process for the rest of a period once it has
spent its share (hwprof.measuring.throttling), which /proc/stat cannot show:
a throttled process is neither busy nor "other". A window in which the
kernel's throttling count of the process's cgroup (or a parent's) rose is
treated as a contended one, its bursts discarded and waited out within the
same allowance, and a quiet spell is one in which it did not rise either.
Where the quota is smaller than the threads the run uses, every window is
throttled, waiting buys nothing, and bursts are kept (the run says so and
records the stops in its provenance).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from hwprof.drivers.host import cpu_affinity, cpu_quota, usable_cpus
from hwprof.errors import HwprofError, HwprofWarning, error_line, option, warn
from hwprof.interrupts import raise_if_pending
from hwprof.measuring.stats import Summary, percentile, summarize
from hwprof.measuring.throttling import read_throttling, throttling_between


@dataclass(frozen=True)
class Method:
    """Every default of the measurement method, stated once."""

    precision: float = 0.02  # relative half-width of the 95% CI of the median
    max_item_s: float = 10.0  # time budget per item, warm-up included
    min_sample_s: float = 0.002  # one sample lasts at least this long
    min_samples: int = 10
    max_samples: int = 1000
    burst: int = 3  # samples per visit to an item
    span_visit_s: float = 0.5  # a spanning item that met its precision gets one burst per this many seconds
    warmup_tolerance: float = 0.05
    max_warmup_s: float = 0.5
    max_other_share: float = 0.1  # a burst taken while others held more of the process's CPUs is discarded
    seed: int | None = None


class LoadUnknownWarning(HwprofWarning):
    """The machine's CPU times cannot be read, so no burst is judged against other processes' load."""


class ItemFailed(Exception):
    """An item's own code raised, or called sys.exit, while it was timed (a model that fails after running
    before): the caller, who knows what the item is, words the sentence."""

    def __init__(self, key: str, error: BaseException) -> None:
        super().__init__(key, error)
        self.key = key
        self.error = error


@dataclass
class Item:
    """One thing to time: a layer configuration or a whole network."""

    key: str
    fn: Callable[[], object]
    sync: Callable[[], None] = lambda: None
    iterations: int = 1
    span: bool = False  # sampled until the other items are done (see the module docstring)
    samples: list[float] = field(default_factory=list)  # seconds per call
    spent_s: float = 0.0
    summary: Summary | None = None
    done: bool = False
    stable: bool = False  # the median's interval met the precision target
    other_cpu_s: float = 0.0  # CPU time other processes used while this item's kept samples were taken
    observed_s: float = 0.0  # wall time over which other_cpu_s was observed
    discarded_bursts: int = 0
    contention_s: float = 0.0  # time lost to discarded bursts and to waiting for a quiet spell
    visited_at_s: float = -math.inf  # perf_counter at the end of its latest burst
    call_s: float = 0.0  # seconds of its latest call, to cut a burst to the budget left

    @property
    def other_cpu_share(self) -> float | None:
        """Share of the capacity of the CPUs this process may use taken by others while sampling; None if
        unobserved."""
        if self.observed_s <= 0:
            return None
        return max(0.0, self.other_cpu_s / (self.observed_s * CPU_COUNT))

    def run(self, n: int) -> float:
        """Run n calls between device synchronisations; seconds per call."""
        fn = self.fn
        try:  # free unless it raises
            self.sync()
            start = time.perf_counter()
            for _ in itertools.repeat(None, n):  # the cheapest Python loop, as timeit uses
                fn()
            self.sync()
        except HwprofError:
            raise
        except (Exception, SystemExit) as error:  # a forward's sys.exit is the model's failure, not hwprof's exit
            raise ItemFailed(self.key, error) from error
        elapsed = time.perf_counter() - start
        self.spent_s += elapsed
        self.call_s = elapsed / n
        return self.call_s


@dataclass(frozen=True)
class Result:
    key: str
    summary: Summary
    iterations: int
    stable: bool
    measure_s: float
    other_cpu_share: float | None
    discarded_bursts: int = 0
    samples: tuple[float, ...] = ()  # seconds per call, each sample the mean of `iterations` calls
    tail_s: tuple[float, float] | None = None  # (p90, p99) of the samples, upper nearest rank
    over_budget: bool = False  # ran more than OVERRUN_SHARE past its time budget: its samples are long against it


def _own_cpus() -> tuple[int, ...] | None:
    """The CPUs this process may run on (a taskset, a container's cpuset), where they are fewer than the machine's:
    load on the others does not slow the run, and load on these would be diluted by the whole machine's count.
    None counts every CPU: no affinity mask (macOS, Windows), or CPU times that cannot be told apart."""
    mask = cpu_affinity()
    if mask is None:
        return None
    cpus = sorted(mask)
    try:
        listed = len(psutil.cpu_times(percpu=True))  # online CPUs in number order
    except (AttributeError, OSError, psutil.Error):
        return None
    return tuple(cpus) if cpus and len(cpus) < listed and cpus[-1] < listed else None


OWN_CPUS = _own_cpus()
CPU_COUNT = len(OWN_CPUS) if OWN_CPUS else psutil.cpu_count() or 1  # the CPUs cpu_clock counts
CONTENTION_WINDOW_S = 0.2  # CPU time is counted in 10 ms ticks: over 0.2 s on 2 CPUs, a tick is 2.5% of the machine
CONTENTION_ALLOWANCE = 1.0  # discarded bursts and waiting for quiet may cost an item this many times its budget
OVERRUN_SHARE = 0.1  # past its budget by this share, with samples this long against it, an item says so


def check_threads(threads: int) -> None:
    """More intra-op threads than CPUs time the scheduler, not the model (measure, and search's --verify)."""
    cpus = usable_cpus()
    if not 1 <= threads <= cpus:
        raise HwprofError(
            f"{option('threads', threads)}: give a thread count from 1 to the {cpus} CPU{'s' * (cpus != 1)} this process may use "
            "(more threads than CPUs time the scheduler, not the model)"
        )


def cpu_clock() -> tuple[float, float]:
    """(CPU-seconds the CPUs this process may use have been busy, CPU-seconds of this process)."""
    if OWN_CPUS is None:
        return _busy_s(psutil.cpu_times()), time.process_time()
    every = psutil.cpu_times(percpu=True)
    return sum(_busy_s(every[cpu]) for cpu in OWN_CPUS), time.process_time()


def _busy_s(times) -> float:
    idle = times.idle + getattr(times, "iowait", 0.0)
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)  # already inside user on Linux
    return sum(times) - idle - guest


def load_readable() -> bool:
    """Whether cpu_clock can be read here; where it cannot, warns that the load check is off."""
    try:
        cpu_clock()
    except (OSError, psutil.Error) as error:
        warn(
            f"the machine's CPU times cannot be read ({error_line(error)}), so hwprof cannot tell when other "
            "processes load the CPU: no burst is discarded for load, and other_cpu_share is left empty",
            LoadUnknownWarning,
        )
        return False
    return True


def timer_resolution_s() -> float:
    """Smallest step perf_counter actually shows on this machine."""
    smallest = math.inf
    for _ in range(200):
        start = time.perf_counter()
        now = time.perf_counter()
        while now == start:
            now = time.perf_counter()
        smallest = min(smallest, now - start)
    return smallest


class Runner:
    def __init__(self, method: Method = Method()) -> None:
        self.method = method
        self.random = random.Random(method.seed)
        # a sample must dwarf the timer's resolution as well as the configured floor
        self.min_sample_s = max(method.min_sample_s, 1000 * timer_resolution_s())
        self.waited_s = 0.0  # spent waiting for quiet spells, over every measure() call
        self.load_known = load_readable()  # else every window's load is unknown and its bursts are kept
        self.quota_binds = False  # the cgroup's quota is below the threads: its stops cannot be waited out
        self._items: list[Item] = []

    def measure(self, items: list[Item], on_done: Callable[[Result], None] | None = None) -> list[Result]:
        """Time every item; `on_done` is called as each finishes, so rows can be written at once."""
        results: list[Result] = []
        self._items = items  # for _held; let go of when the call ends, with the tensors the items hold
        self.quota_binds = quota_below_threads()
        try:
            self._sample(items, results, on_done)
        finally:
            self._items = []
        return results

    def _sample(self, items: list[Item], results: list[Result], on_done: Callable[[Result], None] | None) -> None:
        """measure's work: results are appended to `results` as items finish."""

        def finish(item: Item) -> None:
            item.done = True
            result = Result(
                item.key,
                item.summary,
                item.iterations,
                item.stable,
                item.spent_s + item.contention_s,
                item.other_cpu_share,
                item.discarded_bursts,
                samples=tuple(item.samples),
                tail_s=(percentile(item.samples, 90), percentile(item.samples, 99)),
                over_budget=self._over_budget(item),
            )
            results.append(result)
            if on_done is not None:
                on_done(result)

        for item in self._shuffled(items):
            self._prepare(item)
            if item.done:
                finish(item)
        active = [item for item in items if not item.done]
        window = _Window(self.load_known)
        while active:
            for item in self._shuffled(active):
                if item.done or id(item) in window.enough or not self._due(item):
                    continue
                room = self.method.max_samples - len(item.samples) - window.pending(item)
                wall_before = time.perf_counter()
                burst = [item.run(item.iterations) for _ in range(min(self.method.burst, room, self._fitting(item)))]
                item.visited_at_s = time.perf_counter()
                window.add(item, burst, item.visited_at_s - wall_before)
                raise_if_pending()  # a SIGTERM whose exception a finalizer swallowed still stops the run here
                if self._would_finish(item, window):
                    window.enough.add(id(item))  # no more samples until the window is judged
                if window.elapsed_s() >= CONTENTION_WINDOW_S:
                    self._settle(window, finish)
                    window = _Window(self.load_known)
            active = [item for item in active if not item.done]
            if active and all(id(item) in window.enough or not self._due(item) for item in active):
                time.sleep(max(0.0, CONTENTION_WINDOW_S - window.elapsed_s()))  # a full window, to judge it
                self._settle(window, finish)
                window = _Window(self.load_known)

    def _settle(self, window: _Window, finish: Callable[[Item], None]) -> None:
        """Keep or discard the window's bursts, then finish the items that are done."""
        share = window.other_share()
        contended = (share is not None and share > self.method.max_other_share) or self._throttled(window)
        discarded: set[int] = set()
        for item, burst, wall_s in window.bursts:
            if contended and item.contention_s + wall_s <= self._allowance_s():
                item.discarded_bursts += 1
                item.spent_s -= wall_s  # the time budget is for kept samples; this is charged to contention
                item.contention_s += wall_s
                discarded.add(id(item))
            else:
                item.samples.extend(burst)
                if share is not None:
                    item.other_cpu_s += share * wall_s * CPU_COUNT
                    item.observed_s += wall_s
        for item in {id(item): item for item, _, _ in window.bursts}.values():
            if not item.done and item.samples and self._finished(item):
                finish(item)
        waiting = [item for item, _, _ in window.bursts if id(item) in discarded and not item.done]
        if waiting:
            limit_s = max(self._allowance_s() - item.contention_s for item in waiting)
            waited_s = self._wait_for_quiet(limit_s)
            self.waited_s += waited_s
            for item in {id(item): item for item in waiting}.values():
                item.contention_s += waited_s

    def _over_budget(self, item: Item) -> bool:
        """Whether the item ran past its budget by more than OVERRUN_SHARE because its samples are long against
        it, not because one quick sample was descheduled on a busy machine."""
        budget_s = self.method.max_item_s
        long_s = OVERRUN_SHARE * budget_s
        return item.spent_s > budget_s + long_s and item.summary.median * item.iterations > long_s

    def _fitting(self, item: Item) -> int:
        """Samples the item's budget still holds at its latest pace, one at least: a slow item's burst would
        otherwise run its budget over by the rest of the burst."""
        sample_s = item.call_s * item.iterations
        left_s = self.method.max_item_s - item.spent_s
        return max(1, int(left_s / sample_s)) if sample_s > 0 else self.method.burst

    def _allowance_s(self) -> float:
        return CONTENTION_ALLOWANCE * self.method.max_item_s

    def _would_finish(self, item: Item, window: _Window) -> bool:
        """Whether the item would be finished if the window's bursts were kept."""
        samples = item.samples + [t for other, burst, _ in window.bursts if other is item for t in burst]
        method = self.method
        if len(samples) >= method.max_samples or item.spent_s >= method.max_item_s:
            return True
        if self._held(item):
            return False
        return len(samples) >= method.min_samples and summarize(samples).relative_half_width <= method.precision

    def _held(self, item: Item) -> bool:
        """Whether a spanning item must go on sampling: some other item is still being sampled."""
        return item.span and any(not other.done and not other.span for other in self._items)

    def _due(self, item: Item) -> bool:
        """Whether an item wants a burst now: a held item that met its precision only every `span_visit_s`."""
        if not (item.stable and self._held(item)):
            return True
        return time.perf_counter() - item.visited_at_s >= self.method.span_visit_s

    def _throttled(self, window: _Window) -> bool:
        """Whether the quota stopped the process in `window`, where a quiet spell could avoid that."""
        return not self.quota_binds and window.throttled()

    def _wait_for_quiet(self, limit_s: float) -> float:
        """Sleep until others hold at most `max_other_share` of the CPU over one window, and the cgroup's quota
        held nothing back meanwhile; seconds waited."""
        waited_s = 0.0
        while waited_s < limit_s:
            window = _Window(self.load_known)
            time.sleep(min(CONTENTION_WINDOW_S, limit_s - waited_s))
            raise_if_pending()
            share = window.other_share()
            waited_s += window.elapsed_s()
            if (share is None or share <= self.method.max_other_share) and not self._throttled(window):
                break
        return waited_s

    def _shuffled(self, items: list[Item]) -> list[Item]:
        order = list(items)
        self.random.shuffle(order)
        return order

    def _prepare(self, item: Item) -> None:
        """Cold call, calibration and warm-up. The loop count is calibrated on a warm call, and checked again on
        the warmed-up calls: a cold call that lazy set-up (oneDNN kernels, the allocator) or a preemption slowed
        to 2 ms or more left a 5 us layer at one call a sample. An item whose calls outlast the whole warm-up (a
        network of seconds) is not called a second time to calibrate: its budget goes to samples."""
        method = self.method
        window = _Window(self.load_known)  # the CPU others take, for the samples kept where the budget ends here
        per_call = item.run(1)
        # a call longer than the whole warm-up calibrates nothing, and one that spent the budget gets no other
        if per_call <= method.max_warmup_s and item.spent_s < method.max_item_s:
            per_call = item.run(1)
        n = 1
        while per_call * n < self.min_sample_s:
            n = max(n + 1, math.ceil(1.2 * self.min_sample_s / max(per_call, 1e-9)))
            per_call = item.run(n)
        item.iterations = n
        warmup_ends_s = min(item.spent_s + method.max_warmup_s, method.max_item_s)  # none once the budget is spent
        recent: list[float] = []
        while item.spent_s < warmup_ends_s:
            recent.append(item.run(n))
            if len(recent) >= 6:
                earlier, latest = sorted(recent[-6:-3])[1], sorted(recent[-3:])[1]
                if abs(latest - earlier) <= method.warmup_tolerance * earlier:
                    break
        if item.spent_s >= method.max_item_s:  # a single call can exceed the budget: keep what there is
            item.samples.extend(recent[-3:] or [per_call])
            if (share := window.other_share()) is not None:  # unobserved, its row's other_cpu_share was empty
                item.other_cpu_s += max(0.0, share) * window.elapsed_s() * CPU_COUNT
                item.observed_s += window.elapsed_s()
            item.summary = summarize(item.samples)
            item.done = True
        elif recent and (warm := statistics.median(recent[-3:])) * n < self.min_sample_s:  # calls sped up once warm
            item.iterations = math.ceil(1.2 * self.min_sample_s / max(warm, 1e-9))

    def _finished(self, item: Item) -> bool:
        method = self.method
        item.summary = summarize(item.samples)
        n = len(item.samples)
        item.stable = n >= method.min_samples and item.summary.relative_half_width <= method.precision
        if item.stable and not self._held(item):
            return True
        return item.spent_s >= method.max_item_s or n >= method.max_samples


class _Window:
    """Bursts taken since the window opened, with the CPU others used meanwhile."""

    def __init__(self, load_known: bool) -> None:
        self.clock = cpu_clock() if load_known else None  # (busy, own) CPU-seconds at the start
        self.throttling = read_throttling()  # the cgroup's quota counters at the start; None where unreadable
        self.start = time.perf_counter()
        self.bursts: list[tuple[Item, list[float], float]] = []  # (item, seconds per call, wall seconds)
        self.enough: set[int] = set()  # ids of items that need no more samples until the window is judged

    def add(self, item: Item, burst: list[float], wall_s: float) -> None:
        self.bursts.append((item, burst, wall_s))

    def pending(self, item: Item) -> int:
        return sum(len(burst) for other, burst, _ in self.bursts if other is item)

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start

    def other_share(self) -> float | None:
        """Share of the process's CPUs others took since the window opened (unclipped: ticks are coarse); None
        where the CPU times cannot be read."""
        if self.clock is None:
            return None
        busy_s, own_s = cpu_clock()
        wall_s = max(self.elapsed_s(), 1e-9)
        return ((busy_s - self.clock[0]) - (own_s - self.clock[1])) / (wall_s * CPU_COUNT)

    def throttled(self) -> bool:
        """Whether the cgroup's CPU quota held the process back since the window opened; False where its
        counters cannot be read."""
        change = throttling_between(self.throttling, read_throttling())
        return change is not None and change.periods > 0


def quota_below_threads() -> bool:
    """Whether the cgroup's CPU quota is smaller than the intra-op threads torch runs: then each busy period
    outruns the quota and is throttled, whatever else runs."""
    import torch

    quota = cpu_quota()
    return quota is not None and quota < torch.get_num_threads()
