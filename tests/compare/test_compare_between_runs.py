"""compare's interval for merged reruns widens by the spread between runs, Student's t over the runs' log
medians times sqrt(1/k_base + 1/k_new): halved, or without the square root, it called about three times as
many unchanged reruns changed, and every earlier test only read the verdict of cases far from the bounds."""

import math
import statistics

import numpy as np
import pytest
from scipy.stats import t

from hwprof.compare import _between_runs, _sample_test


def _runs(medians: list[float], seed: int) -> list[np.ndarray]:
    """One tight run (1% lognormal, 60 samples) around each median: the bootstrap within runs adds next to nothing."""
    rng = np.random.default_rng(seed)
    return [median * np.exp(rng.normal(0.0, 0.01, 60)) for median in medians]


def _textbook_half_width(base_medians: list[float], new_medians: list[float]) -> float:
    """t(0.975, df) * pooled s * sqrt(1/k_base + 1/k_new) over the log medians, the pooled variance written as the
    textbook's weighted mean of the sides' sample variances (a side of one run adds no degree of freedom)."""
    sides = [[math.log(m) for m in medians] for medians in (base_medians, new_medians) if len(medians) > 1]
    freedom = sum(len(logs) - 1 for logs in sides)
    pooled = sum((len(logs) - 1) * statistics.variance(logs) for logs in sides) / freedom
    return t.ppf(0.975, freedom) * math.sqrt(pooled) * math.sqrt(1 / len(base_medians) + 1 / len(new_medians))


@pytest.mark.parametrize(
    ("base_medians", "new_medians"),
    [([1.0, 1.05, 0.95], [1.04]), ([1.0, 1.05, 0.95], [1.3, 1.35, 1.25]), ([2.0, 2.1], [2.2, 2.0, 2.1, 2.15])],
)
def test_the_spread_between_runs_is_students_t_over_the_runs_log_medians(base_medians, new_medians):
    assert _between_runs(base_medians, new_medians) == pytest.approx(
        _textbook_half_width(base_medians, new_medians), rel=1e-9
    )


def _interval_against_the_textbook(base: list[np.ndarray], new: list[np.ndarray]) -> str:
    """_sample_test's interval on each side of the ratio of the runs' medians, checked against the textbook's
    half-width; its verdict."""
    base_medians, new_medians = [float(np.median(run)) for run in base], [float(np.median(run)) for run in new]
    centre = math.log(statistics.median(new_medians) / statistics.median(base_medians))
    expected = _textbook_half_width(base_medians, new_medians)
    result = _sample_test(base, new, seed=["row"])
    assert math.log(result["ci_high"]) - centre == pytest.approx(expected, abs=0.003)
    assert centre - math.log(result["ci_low"]) == pytest.approx(expected, abs=0.003)
    return result["verdict"]


def test_three_runs_five_percent_apart_against_one_bound_the_ratio_by_their_spread():
    """The case of tests/dataset/test_compare_runs_spread.py, whose verdict alone allowed a halved term: each side
    of the interval is 0.252 in log, 0.81-1.34, where a halved term gave 0.92-1.18."""
    assert _interval_against_the_textbook(_runs([1.0, 1.05, 0.95], 1), _runs([1.04], 2)) == "not significant"


def test_a_rise_beyond_the_run_spread_gets_an_interval_of_that_spread_not_wider():
    assert _interval_against_the_textbook(_runs([1.0, 1.05, 0.95], 3), _runs([1.3, 1.35, 1.25], 4)) == "higher"
