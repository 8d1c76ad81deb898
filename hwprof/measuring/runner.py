"""Time callables to a target precision, interleaved in random order.

Method (after pyperf, torch.utils.benchmark and hyperfine):
1. one cold call, then calibrate the loop count so one sample lasts at least
   `min_sample_s` (long against the timer's resolution);
2. warm up until three consecutive samples agree with the three before them
   (at most `max_warmup_s`);
3. take samples in short bursts, visiting the unfinished items in a new random
   order each round, so slow drift (thermal, frequency, neighbours) spreads
   evenly instead of biasing whichever item ran last;
4. stop an item when the 95% interval of its median is within `precision`
   of the median, or when its time budget is spent (then it is not `stable`).

Around each burst the runner also notes how much CPU other processes (and a
hypervisor's steal) took: timings from a busy machine are inflated, sometimes
many-fold when threads wait on a descheduled peer, and each result says so.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from hwprof.measuring.stats import Summary, summarize


@dataclass(frozen=True)
class Method:
    """Every default of the measurement method, stated once."""

    precision: float = 0.02  # relative half-width of the 95% CI of the median
    max_item_s: float = 10.0  # time budget per item, warm-up included
    min_sample_s: float = 0.002  # one sample lasts at least this long
    min_samples: int = 10
    max_samples: int = 1000
    burst: int = 3  # samples per visit to an item
    warmup_tolerance: float = 0.05
    max_warmup_s: float = 0.5
    seed: int | None = None


@dataclass
class Item:
    """One thing to time: a layer configuration or a whole network."""

    key: str
    fn: Callable[[], object]
    sync: Callable[[], None] = lambda: None
    iterations: int = 1
    samples: list[float] = field(default_factory=list)  # seconds per call
    spent_s: float = 0.0
    summary: Summary | None = None
    done: bool = False
    stable: bool = False  # the median's interval met the precision target
    other_cpu_s: float = 0.0  # CPU time other processes used while this item was sampled
    observed_s: float = 0.0  # wall time over which other_cpu_s was observed

    @property
    def other_cpu_share(self) -> float | None:
        """Share of the machine's CPU capacity taken by others while sampling; None if unobserved."""
        if self.observed_s <= 0:
            return None
        return max(0.0, self.other_cpu_s / (self.observed_s * CPU_COUNT))

    def run(self, n: int) -> float:
        """Run n calls between device synchronisations; seconds per call."""
        fn = self.fn
        self.sync()
        start = time.perf_counter()
        for _ in itertools.repeat(None, n):  # the cheapest Python loop, as timeit uses
            fn()
        self.sync()
        elapsed = time.perf_counter() - start
        self.spent_s += elapsed
        return elapsed / n


@dataclass(frozen=True)
class Result:
    key: str
    summary: Summary
    iterations: int
    stable: bool
    measure_s: float
    other_cpu_share: float | None


CPU_COUNT = psutil.cpu_count() or 1
CONTENDED_SHARE = 0.05  # above this share of the machine taken by others, a timing is suspect


def cpu_clock() -> tuple[float, float]:
    """(CPU-seconds the whole machine has been busy, CPU-seconds of this process)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)  # already inside user on Linux
    return sum(times) - idle - guest, time.process_time()


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

    def measure(self, items: list[Item], on_done: Callable[[Result], None] | None = None) -> list[Result]:
        """Time every item; `on_done` is called as each finishes, so rows can be written at once."""
        results: list[Result] = []

        def finish(item: Item) -> None:
            item.done = True
            result = Result(item.key, item.summary, item.iterations, item.stable, item.spent_s, item.other_cpu_share)
            results.append(result)
            if on_done is not None:
                on_done(result)

        for item in self._shuffled(items):
            self._prepare(item)
            if item.done:
                finish(item)
        active = [item for item in items if not item.done]
        while active:
            for item in self._shuffled(active):
                busy_before, own_before = cpu_clock()
                wall_before = time.perf_counter()
                for _ in range(min(self.method.burst, self.method.max_samples - len(item.samples))):
                    item.samples.append(item.run(item.iterations))
                busy_after, own_after = cpu_clock()
                item.observed_s += time.perf_counter() - wall_before
                item.other_cpu_s += (busy_after - busy_before) - (own_after - own_before)
                if self._finished(item):
                    finish(item)
            active = [item for item in active if not item.done]
        return results

    def _shuffled(self, items: list[Item]) -> list[Item]:
        order = list(items)
        self.random.shuffle(order)
        return order

    def _prepare(self, item: Item) -> None:
        """Cold call, calibration and warm-up."""
        method = self.method
        per_call = item.run(1)
        n = 1
        while per_call * n < self.min_sample_s:
            n = max(n + 1, math.ceil(1.2 * self.min_sample_s / max(per_call, 1e-9)))
            per_call = item.run(n)
        item.iterations = n
        warmup_ends_s = item.spent_s + min(method.max_warmup_s, method.max_item_s)
        recent: list[float] = []
        while item.spent_s < warmup_ends_s:
            recent.append(item.run(n))
            if len(recent) >= 6:
                earlier, latest = sorted(recent[-6:-3])[1], sorted(recent[-3:])[1]
                if abs(latest - earlier) <= method.warmup_tolerance * earlier:
                    break
        if item.spent_s >= method.max_item_s:  # a single call can exceed the budget: keep what there is
            item.samples.extend(recent[-3:] or [per_call])
            item.summary = summarize(item.samples)
            item.done = True

    def _finished(self, item: Item) -> bool:
        method = self.method
        item.summary = summarize(item.samples)
        n = len(item.samples)
        if n >= method.min_samples and item.summary.relative_half_width <= method.precision:
            item.stable = True
            return True
        return item.spent_s >= method.max_item_s or n >= method.max_samples
