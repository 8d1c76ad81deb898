"""held_out_coverage scores each fold's residuals against the interval the other folds give: scored against an
interval that had seen them, a fit's cross-validated coverage overstates. Its one test had 2,000 residuals, where
leaving a fold out changes nothing, so an in-sample score passed."""

import pytest

from hwprof.predictor.intervals import held_out_coverage


def test_each_fold_is_scored_by_the_interval_of_the_others():
    """12 residuals in 4 folds at 90%: 9 residuals left in give a conformal rank of ceil(10 * 0.9) = 9, their
    widest deviation from their median. Fold 0 holds the two outliers, -1 and 1, and 0: the other nine span
    -0.05..0.06 (median 0.01, widest deviation 0.06, interval -0.05..0.07), which holds 0 alone. Each other fold
    is scored with both outliers left in, an interval past +-1 that holds all three. So 10 of 12 are inside;
    in-sample, the outliers would widen the interval that scores them (11 of 12)."""
    residuals = [1.0, 0.05, -0.04, 0.02, -1.0, -0.03, 0.06, -0.05, 0.0, 0.01, 0.03, -0.02]
    folds = [index % 4 for index in range(12)]
    assert held_out_coverage(residuals, folds, 0.9) == pytest.approx(10 / 12)
