"""Network-level models: whole-network measurements from per-layer predictions and structure.

Each network target is a linear model over named network columns (per op group
sums of predicted layer latency, layer counts, GMACs, MB moved, ...), fitted
to minimise *relative* error and pulled toward a physically sensible prior:

    minimise  sum_i w_i ((x_i . theta - y_i) / y_i)^2  +  lam * sum_k (scale_k (theta_k - prior_k))^2

(w_i: how precisely network i was measured; scale_k: see penalty_scales).

With layer models, latency is the sum of the predicted layers times a bounded
correction learned in log space (fit_log_ratio_model): the data teaches what
measuring layers in isolation gets wrong. Without layer rows the prior is a roofline-like shared model (a cost per layer, per GMAC and per
MB, equal for all op groups), fitted first from the few networks measured;
the per-group deviations are then learned only as far as the data supports.
This is what lets ten measured networks already rank a search space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from hwprof.fitting.layers import precision_weights, weighted_log_rmse
from hwprof.models.spec import VARIANT_MARK
from hwprof.predictor.features import ADDITIVE_KINDS, AGGREGATE_KINDS, OP_GROUPS
from hwprof.predictor.network_model import RATIO_COLUMNS, NetworkModel, ratio_features

LAMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
SMALL_SAMPLE_LAMBDA = 10.0  # used when there are too few networks to cross-validate the choice
# Five networks choose the additive model's penalty by leave-one-out better than a fixed strong one (which
# pulls every op group to shared costs); a layer-sum correction needs six to choose its columns at all.
MIN_ROWS_FOR_LAMBDA_CV = 5
MIN_ROWS_FOR_RATIO_CV = 6
MIN_ROWS_FOR_BASELINES = 4  # leave-one-out over 4 networks still scores a 2-parameter line
RATIO_LAMBDAS = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6)
MIN_LAYER_SHARE = 0.25  # the fresh-memory cost may explain at most 3/4 of a training network's latency


@dataclass
class Design:
    """What one network model regresses on, and where its coefficients are pulled."""

    columns: list[str]
    prior: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def group_columns(kind: str, groups=OP_GROUPS) -> list[str]:
    return [f"{kind}:{group}" for group in groups]


def penalty_scales(x: np.ndarray, y: np.ndarray, columns: list[str]) -> np.ndarray:
    """How much a unit change of each coefficient moves a typical prediction, relatively.

    Columns of one kind (all `count:*`, all `gmac:*`, ...) share one scale, taken
    from their sum, so a group that is rare in the training networks cannot take
    a huge coefficient for free."""
    relative = np.abs(x) / y[:, None]
    kinds = [column.split(":")[0] for column in columns]
    scales = np.ones(len(columns))
    for kind in set(kinds):
        members = [k for k, name in enumerate(kinds) if name == kind]
        total = relative[:, members].sum(axis=1)
        typical = float(np.median(total[total > 0])) if np.any(total > 0) else 1.0
        scales[members] = typical
    return scales


def solve(x: np.ndarray, y: np.ndarray, design: Design, lam: float, weights: np.ndarray | None = None) -> np.ndarray:
    """The penalised relative-error least squares above (rows weighted), within the design's bounds."""
    root = np.sqrt(weights if weights is not None else np.ones(len(y)))
    relative = x / y[:, None] * root[:, None]
    seen = np.any(x != 0, axis=0)
    coef = design.prior.copy()
    active = np.flatnonzero(seen)  # a column never seen keeps its prior
    if active.size == 0:
        return coef
    offset = relative[:, ~seen] @ design.prior[~seen] if (~seen).any() else 0.0
    penalty = np.sqrt(lam) * penalty_scales(x, y, design.columns)[active]
    a = np.vstack([relative[:, active], np.diag(penalty)])
    b = np.concatenate([root - offset, penalty * design.prior[active]])
    result = lsq_linear(a, b, bounds=(design.lower[active], design.upper[active]), method="bvls")
    coef[active] = result.x
    return coef


def choose_lambda(
    x: np.ndarray, y: np.ndarray, design: Design, splits, weights: np.ndarray, design_for=None
) -> tuple[float, dict]:
    """The penalty with the lowest cross-validated (weighted) log error; a fixed strong one for tiny samples.

    `design_for(train rows)` gives each fold a design of its own where the prior is learnt from the data,
    so the held-out rows do not shape what the fold's model is pulled toward."""
    if len(y) < MIN_ROWS_FOR_LAMBDA_CV or not splits:
        return SMALL_SAMPLE_LAMBDA, {}
    errors = {}
    fold_designs = [design_for(train) if design_for else design for train, _ in splits]
    for lam in LAMBDAS:
        squared, used = [], []
        for (train, test), fold_design in zip(splits, fold_designs):
            coef = solve(x[train], y[train], fold_design, lam, weights[train])
            predicted = np.maximum(x[test] @ coef, 1e-9 * y[test])
            squared.append(weights[test] * np.log(y[test] / predicted) ** 2)
            used.append(weights[test])
        errors[lam] = float(np.sqrt(np.sum(np.concatenate(squared)) / np.sum(np.concatenate(used))))
    best = min(errors, key=errors.get)
    return best, {str(k): v for k, v in errors.items()}


def fit_network_model(
    target: str,
    x: np.ndarray,
    y: np.ndarray,
    design: Design,
    splits,
    relative_ci: np.ndarray | None = None,
    design_for=None,
) -> NetworkModel:
    weights = precision_weights(relative_ci, len(y))
    lam, errors = choose_lambda(x, y, design, splits, weights, design_for)
    coef = solve(x, y, design, lam, weights)
    return NetworkModel(target, design.columns, coef, lam, cv={"lambda_log_rmse": errors})


def fit_analytic_latency(
    aggregates: np.ndarray,
    y: np.ndarray,
    splits,
    relative_ci: np.ndarray | None = None,
    replay: dict | None = None,
    networks: Sequence[str] | None = None,
) -> NetworkModel:
    """Latency from network rows alone: the per-group analytic model, unless a simpler baseline does as
    well in the same cross-validation.

    With few networks the analytic model's 25 costs can overfit where a line through the MACs, or a
    ridge on how many layers of each op group a network has, ranks unseen networks better. Both are
    the analytic model with tied or zeroed columns, so whichever wins is stored in the same form;
    the analytic model must beat the better baseline by 2% to be taken.

    `replay` (a latency model's document) fits the candidate and penalty it chose instead of choosing
    again: a refit in cross-validation then scores the model the predictor holds. `networks` names each
    row's network (settings such as @seq_len=128 included or not: they are set aside)."""
    design, x = analytic_design(aggregates, y)
    weights = precision_weights(relative_ci, len(y))

    fold_designs: dict[bytes, Design] = {}  # per training split: its prior is fitted once, used by every candidate

    def analytic_for(rows: np.ndarray) -> Design:
        key = np.asarray(rows).tobytes()
        if key not in fold_designs:
            fold_designs[key] = analytic_design(aggregates[rows], y[rows])[0]
        return fold_designs[key]

    columns = design.columns
    gmac = np.array([c.startswith("gmac:") for c in columns])
    counts = np.array([c.startswith("count:") or c == "intercept" for c in columns])
    intercept = np.array([c == "intercept" for c in columns])

    def fit_flops(rows: np.ndarray) -> np.ndarray:
        """latency = a x total GMAC + b, a, b >= 0: every gmac column gets the same cost."""
        line = np.column_stack([x[rows][:, gmac].sum(axis=1), np.ones(len(rows))]) / y[rows, None]
        root = np.sqrt(weights[rows])
        a, b = lsq_linear(line * root[:, None], root, bounds=(0.0, np.inf), method="bvls").x
        return np.where(gmac, a, 0.0) + np.where(intercept, b, 0.0)

    def count_design(full: Design) -> Design:
        keep = [c for c, kept in zip(columns, counts) if kept]
        return Design(keep, full.prior[counts], full.lower[counts], full.upper[counts])

    # each candidate is refitted from the training rows alone, its prior included (the shared costs
    # the analytic model is pulled toward would otherwise carry the held-out networks into its fit)
    def fit_counts(rows: np.ndarray, lam: float) -> np.ndarray:
        coef = np.zeros(len(columns))
        own = count_design(analytic_for(rows))
        coef[counts] = solve(x[rows][:, counts], y[rows], own, lam, weights[rows])
        return coef

    def on_everything(chosen: str, lam: float, cv: dict) -> NetworkModel:
        everything = np.arange(len(y))
        if chosen == "analytic":
            coef = solve(x, y, design, lam, weights)
        elif chosen == "flops":
            coef, lam = fit_flops(everything), 0.0
        else:
            coef = fit_counts(everything, lam)
        return NetworkModel("latency_ms", columns, coef, lam, cv=cv)

    if replay is not None:
        chosen = replay.get("cv", {}).get("chosen", "analytic")
        return on_everything(chosen, float(replay["lambda"]), {"replayed": chosen})
    analytic = fit_network_model("latency_ms", x, y, design, splits, relative_ci, analytic_for)
    if len(y) < MIN_ROWS_FOR_BASELINES or not splits:
        return analytic
    count_lam, _ = choose_lambda(
        x[:, counts], y, count_design(design), splits, weights, lambda rows: count_design(analytic_for(rows))
    )
    candidates = (
        ("flops", fit_flops),
        ("op_counts", lambda rows: fit_counts(rows, count_lam)),
        ("analytic", lambda rows: solve(x[rows], y[rows], analytic_for(rows), analytic.lam, weights[rows])),
    )
    if networks is not None and _counts_blind(networks, x[:, gmac].sum(axis=1)):  # one network, two batch sizes
        candidates = tuple(c for c in candidates if c[0] != "op_counts")
    errors = {name: _cv_log_rmse(fitter, x, y, splits, weights) for name, fitter in candidates}
    baseline = min(("flops", "op_counts"), key=lambda name: errors.get(name, np.inf))  # the simpler wins a tie
    chosen = "analytic" if errors["analytic"] < errors[baseline] * 0.98 else baseline
    cv = dict(analytic.cv, candidates_log_rmse=errors, chosen=chosen)
    return on_everything(chosen, analytic.lam if chosen == "analytic" else count_lam, cv)


COUNT_BLIND_WORK_RATIO = 1.5  # networks with the same layer counts whose MACs differ by more than this


def _counts_blind(networks: Sequence[str], gmac: np.ndarray) -> bool:
    """Whether one network appears with work that differs by over COUNT_BLIND_WORK_RATIO (at several batch
    sizes, sequence lengths or input shapes): a model of its layer counts would predict it one latency at
    every size, whatever the training data say. Two networks that merely count the same layers (a narrow
    and a wide ViT of one depth) are no reason: the cross-validation scores counts on them."""
    work: dict[str, list[float]] = {}
    for name, total in zip(networks, gmac):
        work.setdefault(name.split(VARIANT_MARK)[0], []).append(float(total))
    return any(max(v) > COUNT_BLIND_WORK_RATIO * max(min(v), 1e-12) for v in work.values() if len(v) > 1)


def _cv_log_rmse(fitter, x: np.ndarray, y: np.ndarray, splits, weights: np.ndarray) -> float:
    """Held-out weighted log error of `fitter(train rows) -> coefficients` over the splits."""
    squared, used = [], []
    for train, test in splits:
        predicted = np.maximum(x[test] @ fitter(train), 1e-9 * y[test])
        squared.append(weights[test] * np.log(y[test] / predicted) ** 2)
        used.append(weights[test])
    return float(np.sqrt(np.sum(np.concatenate(squared)) / np.sum(np.concatenate(used))))


# Nested candidate column sets of the correction: a constant ratio; plus the layer density (a cost per
# layer the isolated layers missed); plus the size.
RATIO_COLUMN_SETS = ([0], [0, 1], [0, 1, 2])


def _ridge(phi: np.ndarray, r: np.ndarray, w: np.ndarray, lam: float) -> np.ndarray:
    """Weighted ridge on standardised columns, the intercept penalised too (toward zero: the target as
    it is); returns coefficients on the raw columns."""
    share = w / w.sum()
    mean = share @ phi
    spread = np.sqrt(share @ (phi - mean) ** 2)
    usable = spread > 1e-9
    usable[0] = False  # the intercept column
    x = np.column_stack([np.ones(len(r)), (phi[:, usable] - mean[usable]) / spread[usable]])
    gram = (x * share[:, None]).T @ x + lam / len(r) * np.eye(x.shape[1])
    beta = np.linalg.solve(gram, (x * share[:, None]).T @ r)
    coef = np.zeros(phi.shape[1])
    coef[usable] = beta[1:] / spread[usable]
    coef[0] = beta[0] - coef[usable] @ mean[usable]
    return coef


def fresh_memory_cost(
    layer_total: np.ndarray, fresh_mb: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """(ratio, ms per MB of fresh outputs) of latency ~ ratio x layer sum + cost x fresh MB, fitted
    to every network at once (relative error, both >= 0). The cost is a property of the machine,
    not of an architecture, so it is estimated from all families together before any correction
    can absorb it; it never explains more than 1 - MIN_LAYER_SHARE of any network."""
    root = np.sqrt(weights)[:, None]
    x = np.column_stack([layer_total, fresh_mb]) / y[:, None] * root
    ratio, per_mb = lsq_linear(x, root[:, 0], bounds=(0.0, np.inf), method="bvls").x
    ceiling = np.min(np.where(fresh_mb > 0, (1 - MIN_LAYER_SHARE) * y / np.maximum(fresh_mb, 1e-12), np.inf))
    return float(ratio) if ratio > 1e-6 else 1.0, min(float(per_mb), float(ceiling))


def fit_log_ratio_model(
    target: str,
    layer_sums: np.ndarray,
    counts: np.ndarray,
    y: np.ndarray,
    splits,
    relative_ci: np.ndarray | None = None,
    fresh_mb: np.ndarray | None = None,
    replay: dict | None = None,
    other_board: bool = False,
) -> NetworkModel:
    """Network latency as the sum of its predicted layers times a bounded correction, plus a cost
    per MB of outputs written to fresh memory.

    Layers timed in isolation run in a hot loop that reuses one output buffer; a
    network allocates every output anew, and large ones come as fresh pages the
    kernel faults in and zeroes. That cost belongs to the machine, not to an
    architecture, so it is one constant (see fresh_memory_cost) added outside the
    clipped correction: it extrapolates to a family with far more activation
    traffic than any seen in training, as it should.

    The correction is linear in log space in the layer density and the size,
    each clipped to the training range: a family unlike any in training gets at
    most the largest correction seen, never an extrapolated one. The ridge pulls
    it toward the constant ratio fitted with the costs. Its columns (see
    RATIO_COLUMN_SETS) and how hard it is pulled are chosen together by
    cross-validation over the families, beside no correction at all (the layer
    sum as it is, the simplest candidate); a richer choice must beat a simpler one
    by 2% to be taken, since families left out differ most in what the richer
    sets describe, and no correction is taken that makes any held-out family
    worse than its plain layer sum. Each fold fits its own ratio and cost, so a
    candidate is scored on networks that shaped none of it. With fewer networks
    than MIN_ROWS_FOR_RATIO_CV nothing is chosen: the layer sum as it is, and no
    fresh-memory cost, which so few networks cannot tell from a scale (on default
    runs, 3-5 networks predicted the rest better as they were than scaled by their ratio).
    `replay` (a latency model's document) fits the form it chose instead of choosing again.

    `other_board`: the layer sums were predicted for another board (a base predictor adapted to a
    new one), so the plain layer sum is that board's latency. The simplest candidate is then the
    layer sum times one scale (with the fresh-memory cost) fitted within each fold, and a correction
    must beat that; whichever wins must in turn beat the sum as it is in the same cross-validation
    (boards that run alike: a scale fitted to a few networks can only add error). With too few
    networks to choose, it is that scale."""
    total = np.maximum(layer_sums.sum(axis=1), 1e-9)
    phi = ratio_features(total, counts.sum(axis=1))
    fresh = np.zeros(len(y)) if fresh_mb is None else np.asarray(fresh_mb, dtype=float)
    few = len(y) < MIN_ROWS_FOR_RATIO_CV or not splits
    # a cost per MB needs enough networks to be told from a scale; a refit keeps what the fit found
    keeps_fresh_cost = not few if replay is None else bool(replay.get("ms_per_output_mb"))
    if not keeps_fresh_cost:
        fresh = np.zeros(len(y))
    weights = precision_weights(relative_ci, len(y))
    ratio, per_mb = fresh_memory_cost(total, fresh, y, weights)
    additive = per_mb * fresh
    scaled = ratio * total  # the correction is pulled toward this ratio, not toward the bare sum
    r = np.log((y - additive) / scaled)
    errors = {}
    chosen, lam = None, RATIO_LAMBDAS[-1]
    worse_on = {}
    scales = other_board  # another board's layer sums are scaled to this one, unless they do better as they are
    if replay is not None:
        chosen = [RATIO_COLUMNS.index(name) for name in replay["cv"]["columns"]] or None
        lam = float(replay["lambda"])
        scales = replay["cv"].get("simplest", "scale" if other_board else "identity") == "scale"
    elif not few:
        # each fold learns its ratio and fresh-memory cost from its own training networks
        folds = []
        for train, test in splits:
            fold_ratio, fold_per_mb = fresh_memory_cost(total[train], fresh[train], y[train], weights[train])
            fold_additive, fold_scaled = fold_per_mb * fresh, fold_ratio * total
            fold_r = np.log((y[train] - fold_additive[train]) / fold_scaled[train])
            folds.append((train, test, fold_scaled, fold_additive, fold_r))
        # the simplest candidate, and the first to beat: no correction at all (the layer sum as it
        # is), or for another board's layer sums that sum times the fold's scale
        as_is, plain = np.empty(len(y)), np.empty(len(y))
        for _, test, fold_scaled, fold_additive, _ in folds:
            as_is[test] = total[test] + fold_additive[test]
            plain[test] = fold_scaled[test] + fold_additive[test] if other_board else as_is[test]
        scored = np.concatenate([test for _, test in splits])
        errors["identity"] = weighted_log_rmse(np.log(as_is[scored]), np.log(y[scored]), weights[scored])
        if other_board:
            errors["scale"] = weighted_log_rmse(np.log(plain[scored]), np.log(y[scored]), weights[scored])
        best = errors["scale" if other_board else "identity"]
        # and a correction must not make any held-out family worse than the simplest candidate
        simplest_per_fold = [weighted_log_rmse(np.log(plain[t]), np.log(y[t]), weights[t]) for _, t in splits]
        for k, columns in enumerate(RATIO_COLUMN_SETS):
            for candidate in reversed(RATIO_LAMBDAS):  # the strongest pull first: simpler wins ties
                squared, used, per_fold = [], [], []
                for train, test, fold_scaled, fold_additive, fold_r in folds:
                    part = phi[np.ix_(train, columns)]
                    coef = _ridge(part, fold_r, weights[train], candidate)
                    clipped = np.clip(phi[np.ix_(test, columns)], part.min(axis=0), part.max(axis=0))
                    predicted = fold_scaled[test] * np.exp(clipped @ coef) + fold_additive[test]
                    squared.append(weights[test] * np.log(y[test] / predicted) ** 2)
                    used.append(weights[test])
                    per_fold.append(weighted_log_rmse(np.log(predicted), np.log(y[test]), weights[test]))
                error = float(np.sqrt(np.sum(np.concatenate(squared)) / np.sum(np.concatenate(used))))
                name = f"{k}:{candidate:g}"
                errors[name] = error
                worse = [i for i, (mine, simplest) in enumerate(zip(per_fold, simplest_per_fold)) if mine > simplest]
                if worse:
                    worse_on[name] = worse
                elif error < best * 0.98:
                    best, chosen, lam = error, columns, candidate
        # another board's sum as it is competes with whatever won: the boards may run alike
        if other_board and errors["identity"] <= best:  # the simpler wins a tie
            chosen, scales = None, False
    coef = np.zeros(len(RATIO_COLUMNS))
    if chosen is not None:
        coef[chosen] = _ridge(phi[:, chosen], r, weights, lam)
    if chosen is not None or scales:
        coef[0] += np.log(ratio)
    return NetworkModel(
        target,
        RATIO_COLUMNS,
        coef,
        lam,
        "log_ratio",
        phi.min(axis=0),
        phi.max(axis=0),
        per_mb,
        cv={
            "log_rmse": errors,
            "columns": [RATIO_COLUMNS[k] for k in chosen or []],
            "simplest": "scale" if scales else "identity",
            "worse_than_layer_sum_on_folds": worse_on,
        },
    )


def additive_aggregates(aggregates: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The ADDITIVE_KINDS columns of network aggregates, with their names."""
    kinds = [AGGREGATE_KINDS.index(kind) for kind in ADDITIVE_KINDS]
    n = len(aggregates)
    x = aggregates.reshape(n, len(OP_GROUPS), len(AGGREGATE_KINDS))[:, :, kinds].reshape(n, -1)
    return [f"{kind}:{group}" for group in OP_GROUPS for kind in ADDITIVE_KINDS], x


def shared_prior(aggregates: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cost per layer, per GMAC and per MB (same for every op group) plus a fixed overhead."""
    _, x = additive_aggregates(aggregates)
    per_kind = x.reshape(len(y), len(OP_GROUPS), len(ADDITIVE_KINDS)).sum(axis=1)
    x = np.column_stack([per_kind, np.ones(len(y))])
    relative = x / y[:, None]
    result = lsq_linear(relative, np.ones(len(y)), bounds=(0, np.inf), method="bvls")
    return result.x  # count, gmac, mb, intercept


def analytic_design(aggregates: np.ndarray, y: np.ndarray) -> tuple[Design, np.ndarray]:
    """Per-group count/GMAC/MB columns, pulled toward the shared per-kind costs; all costs >= 0."""
    shared = shared_prior(aggregates, y)
    columns, x = additive_aggregates(aggregates)
    prior = [shared[k] for _ in OP_GROUPS for k in range(len(ADDITIVE_KINDS))]
    columns.append("intercept")
    prior.append(shared[-1])
    n = len(columns)
    design = Design(columns, np.array(prior), np.zeros(n), np.full(n, np.inf))
    return design, np.column_stack([x, np.ones(len(y))])


def energy_design(latency_ms: np.ndarray, aggregates: np.ndarray, energy_mj: np.ndarray) -> tuple[Design, np.ndarray]:
    """Energy = average power x predicted time, plus per-group costs per layer, GMAC and MB (all >= 0)."""
    power_w = float(np.median(energy_mj / latency_ms))  # mJ / ms = W
    names, additive = additive_aggregates(aggregates)
    columns = ["latency_ms"] + names + ["intercept"]
    n = len(columns)
    prior = np.zeros(n)
    prior[0] = power_w
    x = np.column_stack([latency_ms, additive, np.ones(len(latency_ms))])
    return Design(columns, prior, np.zeros(n), np.full(n, np.inf)), x


def power_design(shares: np.ndarray, power_w: np.ndarray) -> tuple[Design, np.ndarray]:
    """Power = a base plus how much each op group's share of the time shifts it (NeuralPower's time-weighted mean)."""
    columns = ["intercept"] + group_columns("share")
    n = len(columns)
    prior = np.zeros(n)
    prior[0] = float(np.median(power_w))
    x = np.column_stack([np.ones(len(shares)), shares])
    return Design(columns, prior, np.full(n, -np.inf), np.full(n, np.inf)), x
