"""Statistics of timing samples, reported with their spread.

The median and its confidence interval come from order statistics, which
assume nothing about the shape of the distribution: timing noise is skewed
and heavy-tailed, so a normal-theory interval would lie.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95
TWO_SPEED_FACTOR = 1.4  # a sample this many times the fastest tenth's comes from a slow mode


@dataclass(frozen=True)
class Summary:
    median: float
    ci_low: float  # NaN, as ci_high, when too few samples bound the median (see summarize)
    ci_high: float
    std: float
    n: int

    @property
    def bounded(self) -> bool:
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))

    @property
    def relative_half_width(self) -> float:
        """The larger distance from the median to an interval bound, relative to the median; infinite
        without bounds, so that no precision target is ever met by too few samples."""
        if self.median <= 0 or self.n == 0 or not self.bounded:
            return math.inf
        return max(self.median - self.ci_low, self.ci_high - self.median) / self.median


# The runner asks after every burst: cached, and each count from the one before (math.comb each time
# took 10 ms at 1000 samples, longer than the burst it judged).
@functools.cache
def median_ci_ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """0-based ranks (lo, hi) of the sorted samples bounding the median at `confidence`.

    The number of samples below the true median is Binomial(n, 1/2); pick the widest
    symmetric cut whose two tails hold at most (1 - confidence) together. None when
    n is too small for any such interval (n < 6 at 95%).
    """
    # [x_(k), x_(n-1-k)] (0-based) covers the median with probability 1 - 2 P(B <= k), B ~ Bin(n, 1/2)
    alpha = 1.0 - confidence
    below = 0.0
    best = None
    ways = 1  # math.comb(n, k), from the one before
    for k in range(n // 2):
        below += ways / 2.0**n
        if 2 * below > alpha:
            break
        best = k
        ways = ways * (n - k) // (k + 1)
    if best is None:
        return None
    return best, n - 1 - best


def sample_std(samples: list[float]) -> float:
    """statistics.stdev to within rounding, in a fifth of its time (it sums exact fractions): summarize runs
    after every burst."""
    mean = math.fsum(samples) / len(samples)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in samples) / (len(samples) - 1))


def summarize(samples: list[float], confidence: float = CONFIDENCE) -> Summary:
    """Median, its interval at `confidence`, and spread of the samples.

    Too few samples for any distribution-free interval (median_ci_ranks is None) leave the bounds NaN:
    their range would cover the median far less often than promised (75% of the time from 3 samples)."""
    if not samples:
        raise ValueError("summarize needs at least one sample")
    ordered = sorted(samples)
    n = len(ordered)
    median = statistics.median(ordered)
    std = sample_std(ordered) if n > 1 else 0.0
    ranks = median_ci_ranks(n, confidence)
    if ranks is None:
        return Summary(median, math.nan, math.nan, std, n)
    return Summary(median, ordered[ranks[0]], ordered[ranks[1]], std, n)


MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2)  # the standard error of a normal sample's median over its mean's


def combine_processes(medians: list[float], distances: list[float], confidence: float = CONFIDENCE) -> tuple:
    """Medians of one item from several fresh processes, and each one's distance from its median to one bound of
    its own interval -> (median across them, distance from it to that bound of the combined interval).

    Each process's interval sees only the noise within it; between processes the
    median itself moves (memory layout, code placement, scheduling). The interval
    is the one a rerun with as many processes should fall in: the spread of the
    process medians, as the standard error of a median of n (t-distributed, n - 1
    degrees of freedom) for the difference of two such medians; never narrower
    than a typical process's own interval on that side, so NaN (unbounded) where
    that has no bounds (NaN distance: too few samples). Called once per side:
    timings' intervals are lopsided (a slow tail), and a mean of the two sides
    would cut the slow one and push the fast one below every sample."""
    center = statistics.median(medians)
    within = statistics.median(math.inf if math.isnan(distance) else distance for distance in distances)
    if math.isinf(within):
        return center, math.nan
    n = len(medians)
    if n < 2:
        return center, within
    from scipy.stats import t

    between = t.ppf(0.5 + confidence / 2, n - 1) * MEDIAN_EFFICIENCY * statistics.stdev(medians) * math.sqrt(2 / n)
    return center, max(within, float(between))


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile as the nearest rank from above: a sample actually observed, never interpolated
    below it (the tail is what it is about)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def percentile_of_groups(groups: list[list[float]], q: float) -> float:
    """The q-th percentile, nearest rank from above, of groups that weigh alike however many samples each holds
    (each sample 1/len(its group) of its group's share), as a median of the groups' medians weighs them: one
    process that took ten times the samples of another does not make the tail its own."""
    weighted = sorted((value, 1.0 / (len(groups) * len(group))) for group in groups for value in group)
    wanted, reached = q / 100, 0.0
    for value, weight in weighted:
        reached += weight
        if reached >= wanted - 1e-12:
            return value
    return weighted[-1][0]


def slow_share(samples: list[float]) -> float:
    """Share of the samples at TWO_SPEED_FACTOR x their 10th percentile or more.

    Near zero for a steady speed (one-thread networks of our default runs: at most 1%, or 5-9% for the few
    that met a slow stretch); 5-60% for networks at two threads on a VM that switches between a fast and a
    slow mode for seconds to minutes (BENCHMARKS.md, "What a spell slows"): a median then describes one
    run's mix of the two."""
    if not samples:
        return 0.0
    fastest_tenth = percentile(samples, 10)
    return sum(sample >= TWO_SPEED_FACTOR * fastest_tenth for sample in samples) / len(samples)
