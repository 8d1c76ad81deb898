"""A perfect ranking whose rank correlation float arithmetic put 2e-16 under 1 printed as "0.999999", which
claims the ranking was not perfect."""

import pytest
from scipy.stats import spearmanr

from hwprof.cli.fit import correlation

MEASURED_MS = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]  # layer configurations shared by rows tie on both sides
PREDICTED_MS = [0.5, 0.5, 0.9, 0.9, 1.7, 1.7, 2.2, 2.2]


@pytest.mark.parametrize("value", [0.9999999999999998, 0.9999999999999999, 1 - 1e-10])  # evaluate --json gave the two
def test_a_correlation_within_round_off_of_1_prints_as_1(value):
    assert correlation(value) == "1.000"
    assert correlation(-value) == "-1.000"


def test_a_ranking_short_of_perfect_still_shows_its_digits():
    assert correlation(spearmanr(MEASURED_MS, PREDICTED_MS[:6] + [2.2, 1.7]).statistic) == "0.962"
    assert correlation(1 - 1e-7) == "0.999999"  # not round-off: 1e-7 short of 1 is cut, not rounded up
