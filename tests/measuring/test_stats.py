"""Median confidence intervals from order statistics, on samples with a known answer."""

import itertools
import math
import random
import statistics

import pytest

from hwprof.measuring.stats import median_ci_ranks, slow_share, summarize


@pytest.mark.parametrize("n, ranks", [(5, None), (6, (0, 5)), (10, (1, 8)), (100, (39, 60))])
def test_ranks_match_binomial_tables(n, ranks):
    assert median_ci_ranks(n) == ranks


def test_ranks_are_the_widest_cut_whose_binomial_tails_stay_within_five_percent():
    def widest(n):  # exact integer tails: 2 P(B <= k) <= 0.05, B ~ Bin(n, 1/2)
        tails = itertools.accumulate(math.comb(n, i) for i in range(n // 2))
        cuts = [k for k, tail in enumerate(tails) if 40 * tail <= 2**n]
        return (cuts[-1], n - 1 - cuts[-1]) if cuts else None

    assert [median_ci_ranks(n) for n in range(1, 400)] == [widest(n) for n in range(1, 400)]


def exact_coverage(n):
    low, _ = median_ci_ranks(n)
    below = sum(math.comb(n, k) for k in range(low + 1)) / 2**n
    return 1 - 2 * below


def test_interval_covers_the_true_median_as_often_as_promised_on_skewed_noise():
    rng = random.Random(7)
    true_median = 2.0  # lognormal(mu=ln 2, sigma=0.5) has median exactly 2
    trials, n = 4000, 20
    hits = 0
    for _ in range(trials):
        summary = summarize([rng.lognormvariate(math.log(true_median), 0.5) for _ in range(n)])
        hits += summary.ci_low <= true_median <= summary.ci_high
    expected = exact_coverage(n)
    assert expected >= 0.95
    # binomial standard error of the observed share is about 0.003; allow four of them
    assert abs(hits / trials - expected) < 0.013


def test_spread_is_reported():
    summary = summarize([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    assert summary.median == 5.5
    assert (summary.ci_low, summary.ci_high) == (2.0, 9.0)
    assert summary.std == pytest.approx(3.0276, abs=1e-4)
    assert summary.relative_half_width == pytest.approx(3.5 / 5.5)


def test_constant_samples_have_zero_width_and_too_few_samples_bound_nothing():
    assert summarize([3.0] * 12).relative_half_width == 0
    few = summarize([1.0, 4.0, 2.0])  # their range would cover the median 75% of the time, not 95%
    assert few.median == 2.0 and not few.bounded
    assert math.isnan(few.ci_low) and math.isnan(few.ci_high)
    assert few.relative_half_width == math.inf  # no precision target is met by it
    assert summarize([1.0, 4.0, 2.0, 3.0, 5.0, 6.0]).bounded


def test_the_dataset_contract_states_the_fewest_samples_that_bound_a_median():
    from hwprof.schema import MIN_BOUNDED_SAMPLES

    assert median_ci_ranks(MIN_BOUNDED_SAMPLES) is not None
    assert all(median_ci_ranks(n) is None for n in range(1, MIN_BOUNDED_SAMPLES))


def test_the_spread_is_statistics_stdev_to_within_rounding():
    rng = random.Random(3)
    for n in (2, 10, 1000):
        samples = [rng.lognormvariate(-6, 0.5) for _ in range(n)]
        assert summarize(samples).std == pytest.approx(statistics.stdev(samples), rel=1e-12)


def test_slow_share_counts_the_samples_of_a_slow_mode():
    """A steady speed has no slow share; a network that spent 30% of its samples in a 2.25x slower mode (as
    two-thread runs on a 2-vCPU VM do) has 30%."""
    rng = random.Random(0)
    steady = [8.3 * (1 + 0.03 * rng.random()) for _ in range(200)]
    assert slow_share(steady) == 0.0
    two_speeds = steady[:140] + [18.7 * (1 + 0.03 * rng.random()) for _ in range(60)]
    rng.shuffle(two_speeds)
    assert slow_share(two_speeds) == pytest.approx(0.3)
    assert slow_share([]) == 0.0
    # README's threshold, 1.4x the fastest tenth (here 10.0): just below it is not slow, at it and above it are
    assert slow_share([10.0] * 17 + [13.9, 14.0, 14.1]) == pytest.approx(2 / 20)
