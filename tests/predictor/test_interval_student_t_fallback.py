"""Too few held-out residuals for a conformal interval (fewer than 19 at 95%, 9 at 90%) fall back to a Student-t
prediction interval on the log ratio, which is what most small fits get: t at n - 1 degrees of freedom, two-sided,
times s * sqrt(1 + 1/n) for a new draw rather than the mean. Its width was never checked, so a one-sided
quantile (25% narrower) or the mean's standard error passed every test."""

import math
import statistics

import pytest
from scipy import stats

from hwprof.predictor.intervals import log_bounds

RESIDUALS = [0.12, -0.05, 0.03, 0.20, -0.11, 0.07, -0.02, 0.01, 0.15, -0.08]


@pytest.mark.parametrize(("n", "confidence"), [(8, 0.9), (10, 0.95), (2, 0.9)])
def test_the_fallback_is_a_two_sided_student_t_prediction_interval(n, confidence):
    residuals = RESIDUALS[:n]
    centre = statistics.median(residuals)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * statistics.stdev(residuals) * math.sqrt(1 + 1 / n)
    low, high, method = log_bounds(residuals, confidence)
    assert method.startswith("student-t")
    assert (low, high) == pytest.approx((centre - half, centre + half), rel=1e-9)
