"""Prediction intervals from held-out residuals (split conformal on the log ratio).

Residuals are r = log(measured / predicted) of networks (or layers) the model
did not see while fitting, so their spread is the honest error on unseen
architectures. The interval is predicted * exp(centre -+ q), where q is the
conformal quantile of |r - centre|. Too few residuals for the requested
confidence fall back to a Student-t interval on the log ratio, and say so.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit  # the Student-t quantile; scipy.stats would import scipy.optimize

# The narrowest half-width of an interval in log space, a relative 1e-6: the resolution the predictor file keeps
# held-out residuals at (6 decimals). Exact data leaves residuals of float round-off (~1e-16) that would give a
# zero-width interval, which a measurement one unit in the last place off its prediction falls outside.
MIN_HALF_WIDTH = 1e-6


def log_bounds(residuals: np.ndarray, confidence: float) -> tuple[float, float, str]:
    """(low, high, method) offsets in log space for a two-sided interval at `confidence`."""
    r = np.asarray(residuals, dtype=float)
    n = r.size
    if n == 0:
        return -math.inf, math.inf, "none: no held-out residuals"
    centre = float(np.median(r))
    rank = math.ceil((n + 1) * confidence)
    if rank <= n:
        q = max(float(np.sort(np.abs(r - centre))[rank - 1]), MIN_HALF_WIDTH)
        return centre - q, centre + q, "conformal"
    if n < 2:
        return -math.inf, math.inf, "none: one held-out residual"
    spread = float(np.std(r, ddof=1)) * math.sqrt(1 + 1 / n)
    q = max(float(stdtrit(n - 1, 0.5 + confidence / 2)) * spread, MIN_HALF_WIDTH)
    return centre - q, centre + q, "student-t (too few residuals for conformal)"


def widest_bounds(residuals: np.ndarray) -> tuple[float, float, str]:
    """(low, high, method) offsets covering every held-out residual: the interval for a network beyond
    the region the held-out families validated, where no quantile of theirs is known to hold."""
    r = np.asarray(residuals, dtype=float)
    if r.size < 2:
        return -math.inf, math.inf, "none: too few held-out residuals"
    centre = float(np.median(r))
    q = max(float(np.abs(r - centre).max()), MIN_HALF_WIDTH)
    return centre - q, centre + q, "widest held-out error"


def holding_prediction(low: float | np.ndarray, high: float | np.ndarray) -> tuple:
    """Log bounds widened to hold their prediction (offset 0) with MIN_HALF_WIDTH to spare on each side: held-out
    errors leaning one way put an interval to one side of it, and one ending at it exactly would leave out a
    measurement a round-off away."""
    return np.minimum(low, -MIN_HALF_WIDTH), np.maximum(high, MIN_HALF_WIDTH)


def held_out_coverage(residuals: np.ndarray, folds: np.ndarray, confidence: float) -> float | None:
    """Share of residuals inside the interval built from the *other* folds' residuals."""
    r = np.asarray(residuals, dtype=float)
    folds = np.asarray(folds)
    if r.size < 3 or np.unique(folds).size < 2:
        return None
    inside = []
    for fold in np.unique(folds):
        mine = folds == fold
        low, high, _ = log_bounds(r[~mine], confidence)
        inside.append((r[mine] >= low) & (r[mine] <= high))
    return float(np.mean(np.concatenate(inside)))


def missing_interval(cv: dict | None) -> tuple[str, str]:
    """(why, fix): why a predictor's networks get no interval, read from its document's `cv` record, and what
    gives them one, so that the advice fits how the predictor was made."""
    cv = cv or {}
    if "scheme" not in cv or cv.get("reason") == "refitted":  # --no-cv (with --base, the refit's record stays)
        return "it was fitted with --no-cv", "refit without --no-cv"
    if cv["scheme"] == "none":
        return (
            f"its networks could not be cross-validated ({cv.get('reason', 'no reason recorded')})",
            "measure more networks, of at least 3 families, and fit with them",
        )
    return "too few of its networks were held out in its cross-validation", "measure more networks and fit with them"
