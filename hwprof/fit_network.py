"""Network-level models: whole-network measurements from per-layer predictions and structure.

Each network target is a linear model over named network columns (per op group
sums of predicted layer latency, layer counts, GMACs, MB moved, ...), fitted
to minimise *relative* error and pulled toward a physically sensible prior:

    minimise  sum_i ((x_i . theta - y_i) / y_i)^2  +  lam * sum_k ((theta_k - prior_k) / scale_k)^2

With layer models the prior says "the network is the sum of its layers"; the
data teaches launch overhead and what isolation gets wrong. Without layer rows
the prior is a roofline-like shared model (a cost per layer, per GMAC and per
MB, equal for all op groups), fitted first from the few networks measured;
the per-group deviations are then learned only as far as the data supports.
This is what lets ten measured networks already rank a search space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import lsq_linear

from hwprof.features import AGGREGATE_KINDS, OP_GROUPS

LAMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0)
SMALL_SAMPLE_LAMBDA = 10.0  # used when there are too few networks to cross-validate the choice
MIN_ROWS_FOR_LAMBDA_CV = 6


@dataclass
class NetworkModel:
    target: str
    columns: list[str]
    coef: np.ndarray
    lam: float
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0))  # held-out log(measured/predicted)
    cv: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"target": self.target, "columns": self.columns, "coef": [float(c) for c in self.coef],
                "lambda": self.lam, "residuals_log": [round(float(r), 6) for r in np.sort(self.residuals)],
                "cv": self.cv}

    @classmethod
    def from_json(cls, doc: dict) -> "NetworkModel":
        return cls(doc["target"], list(doc["columns"]), np.array(doc["coef"], dtype=float), float(doc["lambda"]),
                   np.array(doc.get("residuals_log", []), dtype=float), doc.get("cv", {}))


@dataclass
class Design:
    """What one network model regresses on, and where its coefficients are pulled."""

    columns: list[str]
    prior: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def group_columns(kind: str, groups=OP_GROUPS) -> list[str]:
    return [f"{kind}:{group}" for group in groups]


def solve(x: np.ndarray, y: np.ndarray, design: Design, lam: float) -> np.ndarray:
    """The penalised relative-error least squares above, within the design's bounds."""
    relative = x / y[:, None]
    seen = np.any(x != 0, axis=0)
    scale = np.ones(x.shape[1])
    if seen.any():
        typical = np.array([np.median(np.abs(relative[relative[:, k] != 0, k])) if seen[k] else 1.0
                            for k in range(x.shape[1])])
        scale = 1.0 / np.maximum(typical, 1e-12)
    coef = design.prior.copy()
    active = np.flatnonzero(seen)  # a column never seen keeps its prior
    if active.size == 0:
        return coef
    offset = relative[:, ~seen] @ design.prior[~seen] if (~seen).any() else 0.0
    penalty = np.sqrt(lam) / scale[active]
    a = np.vstack([relative[:, active], np.diag(penalty)])
    b = np.concatenate([np.ones(len(y)) - offset, penalty * design.prior[active]])
    result = lsq_linear(a, b, bounds=(design.lower[active], design.upper[active]), method="bvls")
    coef[active] = result.x
    return coef


def choose_lambda(x: np.ndarray, y: np.ndarray, design: Design, splits) -> tuple[float, dict]:
    """The penalty with the lowest cross-validated log error; a fixed strong one for tiny samples."""
    if len(y) < MIN_ROWS_FOR_LAMBDA_CV or not splits:
        return SMALL_SAMPLE_LAMBDA, {}
    errors = {}
    for lam in LAMBDAS:
        squared = []
        for train, test in splits:
            coef = solve(x[train], y[train], design, lam)
            predicted = np.maximum(x[test] @ coef, 1e-9 * y[test])
            squared.append(np.log(y[test] / predicted) ** 2)
        errors[lam] = float(np.sqrt(np.mean(np.concatenate(squared))))
    best = min(errors, key=errors.get)
    return best, {str(k): v for k, v in errors.items()}


def fit_network_model(target: str, x: np.ndarray, y: np.ndarray, design: Design, splits) -> NetworkModel:
    lam, errors = choose_lambda(x, y, design, splits)
    coef = solve(x, y, design, lam)
    return NetworkModel(target, design.columns, coef, lam, cv={"lambda_log_rmse": errors})


def shared_prior(aggregates: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cost per layer, per GMAC and per MB (same for every op group) plus a fixed overhead."""
    per_kind = aggregates.reshape(len(y), len(OP_GROUPS), len(AGGREGATE_KINDS)).sum(axis=1)
    x = np.column_stack([per_kind, np.ones(len(y))])
    relative = x / y[:, None]
    result = lsq_linear(relative, np.ones(len(y)), bounds=(0, np.inf), method="bvls")
    return result.x  # count, gmac, mb, intercept


def analytic_design(aggregates: np.ndarray, y: np.ndarray) -> tuple[Design, np.ndarray]:
    """Per-group count/GMAC/MB columns, pulled toward the shared per-kind costs; all costs >= 0."""
    shared = shared_prior(aggregates, y)
    columns, prior = [], []
    for group in OP_GROUPS:
        for k, kind in enumerate(AGGREGATE_KINDS):
            columns.append(f"{kind}:{group}")
            prior.append(shared[k])
    columns.append("intercept")
    prior.append(shared[-1])
    n = len(columns)
    design = Design(columns, np.array(prior), np.zeros(n), np.full(n, np.inf))
    return design, np.column_stack([aggregates, np.ones(len(y))])


def layered_design(layer_sums: np.ndarray, aggregates: np.ndarray, kind: str = "layers_ms",
                   prior_scale: float = 1.0) -> tuple[Design, np.ndarray]:
    """Per-group sums of layer predictions (prior: taken as they are) plus per-layer overheads of either sign."""
    counts = aggregates.reshape(len(aggregates), len(OP_GROUPS), len(AGGREGATE_KINDS))[:, :, 0]
    columns = group_columns(kind) + group_columns("count") + ["intercept"]
    g = len(OP_GROUPS)
    prior = np.concatenate([np.full(g, prior_scale), np.zeros(g + 1)])
    lower = np.concatenate([np.zeros(g), np.full(g + 1, -np.inf)])
    upper = np.full(2 * g + 1, np.inf)
    x = np.column_stack([layer_sums, counts, np.ones(len(aggregates))])
    return Design(columns, prior, lower, upper), x


def energy_design(latency_ms: np.ndarray, aggregates: np.ndarray, energy_mj: np.ndarray) -> tuple[Design, np.ndarray]:
    """Energy = average power x predicted time, plus per-group costs per layer, GMAC and MB (all >= 0)."""
    power_w = float(np.median(energy_mj / latency_ms))  # mJ / ms = W
    columns = ["latency_ms"] + [f"{kind}:{group}" for group in OP_GROUPS for kind in AGGREGATE_KINDS] + ["intercept"]
    n = len(columns)
    prior = np.zeros(n)
    prior[0] = power_w
    x = np.column_stack([latency_ms, aggregates, np.ones(len(latency_ms))])
    return Design(columns, prior, np.zeros(n), np.full(n, np.inf)), x


def power_design(shares: np.ndarray, power_w: np.ndarray) -> tuple[Design, np.ndarray]:
    """Power = a base plus how much each op group's share of the time shifts it (NeuralPower's time-weighted mean)."""
    columns = ["intercept"] + group_columns("share")
    n = len(columns)
    prior = np.zeros(n)
    prior[0] = float(np.median(power_w))
    x = np.column_stack([np.ones(len(shares)), shares])
    return Design(columns, prior, np.full(n, -np.inf), np.full(n, np.inf)), x
