"""The per-model and per-op summaries' interval, Student's t over the rows' log ratios: its calibration test
allowed 2-8.5% false calls, so an interval with t at n degrees of freedom and the biased standard deviation
(7.8% false calls) passed it."""

import math

import numpy as np
import pytest
from scipy import stats

from hwprof.compare import _mean_log_interval


def test_the_interval_is_students_t_at_n_minus_one_degrees_of_freedom():
    logs = np.log([1.02, 0.97, 1.05, 1.01, 0.99, 1.08])
    low, high = stats.t.interval(0.95, logs.size - 1, loc=logs.mean(), scale=stats.sem(logs))
    assert _mean_log_interval(logs) == pytest.approx((math.exp(low), math.exp(high)), rel=1e-12)


def test_unchanged_sets_of_six_rows_are_called_changed_five_percent_of_the_time():
    """4,000 sets of six unchanged rows (1% lognormal): the share whose interval misses 1 is 5% give or take
    its binomial error (0.34%); the band 4-6% is three of those either side and leaves out a 7.8% interval."""
    rng = np.random.default_rng(0)
    sets = rng.normal(0.0, 0.01, size=(4000, 6))
    missed = sum(not low <= 1 <= high for low, high in map(_mean_log_interval, sets))
    assert 0.04 * len(sets) <= missed <= 0.06 * len(sets)
