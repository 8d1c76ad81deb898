"""Fit per-op-type layer models: sparse polynomials (NeuralPower style) or trees.

Targets are fitted in log space, so a 10 us ReLU and a 10 ms convolution count
alike. The polynomial's terms (variables, their squares and pairwise products)
are proposed by the Lasso path and kept or dropped by cross-validation of the
refitted least-squares model. Cross-validation folds are model families where
there are enough of them, so errors describe layers of unseen architectures.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lasso_path, orthogonal_mp

from hwprof.predictor.layer_model import LayerModel, PhysicalBase, Trees

FAMILIES = ("polynomial", "trees", "auto")
WITHOUT_SWEEPS = " without sweeps"  # suffix of a family fitted without the layer sweeps' rows
SWEEPS_MARGIN = 0.98  # leaving the sweeps out must predict the held-out families this much better
MIN_ROWS_WITHOUT_SWEEPS = 3  # own rows a fold needs to replay a choice made without the sweeps
MIN_ROWS = 6  # unique configurations an op type needs for a model of its own
MAX_FOLDS = 8
TREE_DEPTH = 3
TREE_COUNT = 100
RIDGE = 1e-6  # keeps refits defined when terms are collinear
SLOPE_BOUNDS = (0.0, 2.0)  # d log latency / d log work, for MACs and bytes, over the training sizes (beyond: <= 1)
POWER_LAW_VARIABLES = ("flops", "bytes_total")
# Work whose best measured rate bounds a larger layer's latency: MACs, as a processor's compute peak does. Bytes
# set no such bound: a layer timed alone moves them from cache, and a larger one spills to slower memory.
RATE_VARIABLES = ("flops",)
MODEL_ERROR_FLOOR = 0.05  # relative; see precision_weights
MAX_FORWARD_TERMS = 25
LAUNCH_SHARES = (0.25, 0.5, 0.75, 0.9, 0.97)  # a launch_power base's fixed cost, as shares of the fastest layer


@dataclass
class Folds:
    splits: list[tuple[np.ndarray, np.ndarray]]
    scheme: str  # how rows were split, for the report

    @property
    def scored(self) -> np.ndarray:
        """Rows some fold holds out: the ones out-of-fold errors are measured on."""
        return np.unique(np.concatenate([test for _, test in self.splits])) if self.splits else np.zeros(0, int)


def make_folds(
    groups: np.ndarray, seed: int = 0, always_train: np.ndarray | None = None, units: np.ndarray | None = None
) -> Folds:
    """Leave one family out when there are 3+ families, else k-fold over rows, or over `units` where given:
    each network's rows (its batch sizes) then fall in one fold, so no fold tests a network it trained on.

    Rows in `always_train` (layer sweeps: no network is made of them, so a predictor always has
    them) are in every training part and never held out, as long as 3+ families remain to hold
    out; otherwise they are split like any row."""
    groups = np.asarray(groups)
    n = len(groups)
    kept = np.ones(n, dtype=bool) if always_train is None else ~np.asarray(always_train, dtype=bool)
    labels = np.unique(groups[kept])
    if len(labels) >= 3:
        fold = np.full(n, -1)
        if len(labels) > MAX_FOLDS:  # merge families into MAX_FOLDS folds, each family kept whole
            rng = np.random.default_rng(seed)
            fold_of = dict(zip(rng.permutation(labels), itertools.cycle(range(MAX_FOLDS))))
            fold[kept] = [fold_of[g] for g in groups[kept]]
            scheme = f"{MAX_FOLDS} folds of whole families"
        else:
            fold[kept] = np.searchsorted(labels, groups[kept])
            scheme = "leave-one-family-out"
        if not kept.all():
            scheme += ", sweeps always in training"
    else:
        labels = np.unique(groups)
        families = f"{len(labels)} famil{'y' if len(labels) == 1 else 'ies'}"
        if units is None:
            k = min(5, n)
            fold = np.random.default_rng(seed).permutation(n) % k
            scheme = f"{k}-fold over rows ({families})"
        else:
            names, first, unit_of = np.unique(np.asarray(units), return_index=True, return_inverse=True)
            order = np.empty(len(names), dtype=int)
            order[np.argsort(first)] = np.arange(len(names))  # units in the order they first appear: one row
            k = min(5, len(names))  # per network folds as the rows did
            fold = (np.random.default_rng(seed).permutation(len(names)) % k)[order[unit_of]]
            scheme = f"{k}-fold over networks ({families})"
    splits = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in np.unique(fold[fold >= 0])]
    return Folds([s for s in splits if len(s[0]) and len(s[1])], scheme)


def varying(z: np.ndarray, candidates: list[int]) -> list[int]:
    """Candidate columns that vary, one representative per group of identical columns."""
    kept, seen = [], set()
    for j in candidates:
        column = z[:, j]
        if np.ptp(column) <= 1e-9:
            continue
        key = np.round(column, 9).tobytes()
        if key not in seen:
            seen.add(key)
            kept.append(j)
    return kept


def polynomial_terms(variables: list[int], degree: int) -> list[tuple[int, ...]]:
    terms = [(j,) for j in variables]
    if degree >= 2:
        terms += list(itertools.combinations_with_replacement(variables, 2))
    return terms


def term_matrix(z: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray:
    columns = [z[:, t[0]] if len(t) == 1 else z[:, t[0]] * z[:, t[1]] for t in terms]
    return np.column_stack(columns) if columns else np.zeros((z.shape[0], 0))


def weighted_least_squares(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, ridge: float = RIDGE
) -> tuple[float, np.ndarray]:
    """Intercept and coefficients minimising sum w (y - b - x beta)^2, with a small relative ridge."""
    w = w / w.sum()
    mean_y = float(w @ y)
    if x.shape[1] == 0:
        return mean_y, np.zeros(0)
    mean_x = w @ x
    root = np.sqrt(w)[:, None]
    xc = (x - mean_x) * root
    gram = xc.T @ xc
    gram[np.diag_indices_from(gram)] += ridge * (np.trace(gram) / x.shape[1] + 1e-12)
    coef = np.linalg.solve(gram, xc.T @ ((y - mean_y) * root[:, 0]))
    return float(mean_y - mean_x @ coef), coef


def bounded_least_squares(x: np.ndarray, y: np.ndarray, w: np.ndarray, bounded: int) -> tuple[float, np.ndarray]:
    """Weighted least squares whose first `bounded` coefficients (the power-law slopes) lie in SLOPE_BOUNDS.

    Latency grows with work, and not much faster than linearly: a fit that wants a
    negative slope on bytes is compensating with correction terms, and would
    extrapolate wildly once those are clipped."""
    intercept, coef = weighted_least_squares(x, y, w)
    low, high = SLOPE_BOUNDS
    if bounded == 0 or np.all((coef[:bounded] >= low) & (coef[:bounded] <= high)):
        return intercept, coef
    share = w / w.sum()
    mean_x, mean_y = share @ x, float(share @ y)
    root = np.sqrt(share)[:, None]
    a = (x - mean_x) * root
    scale = np.sqrt(RIDGE * (np.sum(a * a) / x.shape[1] + 1e-12))
    a = np.vstack([a, scale * np.eye(x.shape[1])])
    b = np.concatenate([(y - mean_y) * root[:, 0], np.zeros(x.shape[1])])
    lower = np.concatenate([np.full(bounded, low), np.full(x.shape[1] - bounded, -np.inf)])
    upper = np.concatenate([np.full(bounded, high), np.full(x.shape[1] - bounded, np.inf)])
    coef = lsq_linear(a, b, bounds=(lower, upper), method="bvls").x
    return mean_y - float(mean_x @ coef), coef


def fit_base(z: np.ndarray, y: np.ndarray, w: np.ndarray, spec: tuple[str, list[int]]) -> PhysicalBase:
    """The physical base of the given form over the given variables (see PhysicalBase)."""
    form, columns = spec
    columns = varying(z, columns)
    largest = {j: float(z[:, j].max()) for j in columns}  # where a slope above 1 stops (PhysicalBase.largest)
    if form == "power":
        intercept, coef = bounded_least_squares(z[:, columns], y, w, len(columns))
        return PhysicalBase("power", intercept, dict(zip(columns, (float(c) for c in coef))), largest=largest)
    if form == "launch_power":
        return _fit_launch_power(z, y, w, columns, largest)
    # minimise the weighted relative error of a + sum b_i v_i, all costs >= 0
    x = np.column_stack([np.ones(len(y)), np.expm1(z[:, columns])]) / np.exp(y)[:, None]
    root = np.sqrt(w / w.mean())
    solution = lsq_linear(x * root[:, None], root, bounds=(0.0, np.inf), method="bvls").x
    if not np.any(solution > 0):
        solution[0] = float(np.exp(np.average(y, weights=w)))
    return PhysicalBase("roofline", float(solution[0]), dict(zip(columns, (float(c) for c in solution[1:]))))


def _fit_launch_power(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, columns: list[int], largest: dict[int, float]
) -> PhysicalBase:
    """A fixed cost plus a power law: the cost is a share of the fastest layer's latency (LAUNCH_SHARES), the
    power law is fitted to what each layer takes beyond it, and the share that fits best in log space is kept.

    A layer whose time is mostly the fixed cost says little about the power law: an error e in the log of
    its remainder is an error e * remainder / latency in the log of its latency, so it weighs by that
    share squared."""
    fastest = float(np.exp(y.min()))
    best = None
    for share in LAUNCH_SHARES:
        launch = share * fastest
        remainder = np.exp(y) - launch
        weight = w * (remainder / np.exp(y)) ** 2
        intercept, coef = bounded_least_squares(z[:, columns], np.log(remainder), weight, len(columns))
        error = weighted_log_rmse(np.logaddexp(np.log(launch), intercept + z[:, columns] @ coef), y, w)
        if best is None or error < best[0]:
            coefficients = dict(zip(columns, map(float, coef)))
            best = (error, PhysicalBase("launch_power", intercept, coefficients, launch, largest))
    return best[1]


def select_base(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, folds: Folds, physical: list[int]
) -> tuple[str, list[int]]:
    """The base form and variables (MACs, bytes or both) with the lowest cross-validated error.

    MACs and bytes are nearly collinear for element-wise ops; fitting both
    there splits the slope between them for no gain."""
    candidates = varying(z, physical)
    specs = [
        (form, list(c))
        for form in ("power", "launch_power")
        for size in range(1, len(candidates) + 1)
        for c in itertools.combinations(candidates, size)
    ]
    if candidates:
        specs.append(("roofline", candidates))
    best = (("power", []), np.inf)
    unscored = np.setdiff1d(np.arange(len(y)), folds.scored)  # sweeps: in every training part
    for spec in specs:
        predicted = np.full_like(y, np.nan)
        for train, test in folds.splits:
            predicted[test] = fit_base(z[train], y[train], w[train], spec).predict(z[test])
        if unscored.size:  # a base of a few parameters must fit them too: they alone span the smallest layers
            predicted[unscored] = fit_base(z, y, w, spec).predict(z[unscored])
        error = weighted_log_rmse(predicted, y, w)
        if error < best[1] * 0.99:
            best = (spec, error)
    return best[0]


def rate_limits(z: np.ndarray, y: np.ndarray, columns: list[int]) -> dict[int, tuple[float, float]]:
    """Per work variable (RATE_VARIABLES): the log of the best rate any training layer reached, and the
    largest value trained on, beyond which no layer is predicted faster than that rate (see rate_floor)."""
    limits = {}
    for j in columns:
        work = np.expm1(z[:, j])
        done = work > 0
        if done.any():
            limits[j] = (float(np.max(np.log(work[done]) - y[done])), float(z[:, j].max()))
    return limits


def training_range(z: np.ndarray, columns: list[int]) -> dict[int, tuple[float, float]]:
    return {j: (float(z[:, j].min()), float(z[:, j].max())) for j in columns}


def clip_to(z: np.ndarray, ranges: dict[int, tuple[float, float]]) -> np.ndarray:
    c = z.copy()
    for j, (low, high) in ranges.items():
        np.clip(c[:, j], low, high, out=c[:, j])
    return c


def _candidate_supports(x: np.ndarray, r: np.ndarray, w: np.ndarray, max_size: int) -> list[tuple[int, ...]]:
    """Distinct term sets along the Lasso path and the forward-selection (OMP) path, smallest first.

    The Lasso path is robust to noise; forward selection finds exact sparse laws
    among strongly correlated terms (bytes and MACs often are), where Lasso mixes them.
    """
    supports = {()}
    scale = x.std(axis=0)
    usable = scale > 1e-12
    if usable.any() and max_size > 0:
        share = w / w.sum()
        root = np.sqrt(share)[:, None]
        xs = (x[:, usable] - share @ x[:, usable]) / scale[usable] * root
        rs = (r - share @ r) * root[:, 0]
        columns = np.flatnonzero(usable)
        with _solver_notices_hidden():
            # random_state: coordinate descent draws a seed even when it goes cyclically, from np.random's
            # global state (a host's seeded run) where none is given
            _, coefs, _ = lasso_path(xs, rs, alphas=lasso_alphas(xs, rs), eps=LASSO_EPS, random_state=0)
            steps = min(max_size, xs.shape[1], MAX_FORWARD_TERMS)
            forward = orthogonal_mp(xs, rs, n_nonzero_coefs=steps, return_path=True)
        forward = forward.reshape(xs.shape[1], -1)
        for path in (coefs, forward):
            for k in range(path.shape[1]):
                support = tuple(columns[np.abs(path[:, k]) > 1e-12])
                if len(support) <= max_size:
                    supports.add(support)
    return sorted(supports, key=lambda s: (len(s), s))


LASSO_EPS = 1e-4  # the Lasso path's smallest alpha, as a share of its largest
LASSO_ALPHAS = 40
# What the solvers say on tiny samples, which the term choice's cross-validation judges anyway: the Lasso
# path's smallest alphas do not converge where terms outnumber rows, and forward selection stops early on
# collinear terms.
SOLVER_MODULES = r"sklearn\."
SOLVER_NOTICES = (
    ("Objective did not converge", ConvergenceWarning),
    ("Orthogonal matching pursuit ended", RuntimeWarning),
)


def lasso_alphas(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The grid lasso_path(alphas=LASSO_ALPHAS) draws (from the largest alpha, which keeps every coefficient
    at zero, down to LASSO_EPS of it), given as an array: scikit-learn before 1.9 takes no count."""
    x_r = np.asfortranarray(x).T @ r  # as scikit-learn lays x out, so the grid is the same to the last bit
    alpha_max = np.sqrt(np.max(x_r**2)) / x.shape[0]
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(LASSO_ALPHAS, np.finfo(np.float64).resolution)
    return np.geomspace(alpha_max, alpha_max * LASSO_EPS, num=LASSO_ALPHAS)


@contextmanager
def _solver_notices_hidden() -> Iterator[None]:
    """SOLVER_NOTICES ignored inside the block, by filters of their own added and removed again, not by
    catch_warnings: that swaps the process's whole filter list, so a host's warnings in another thread while
    fit runs were lost, and its filter changes undone."""
    added = []
    for message, category in SOLVER_NOTICES:
        warnings.filterwarnings("ignore", message, category, SOLVER_MODULES)
        added.append(warnings.filters[0])  # filterwarnings puts its entry first
    try:
        yield
    finally:
        for entry in added:
            if entry in warnings.filters:  # another fit's block, ending first, may have taken it
                warnings.filters.remove(entry)


def weighted_log_rmse(predicted: np.ndarray, measured: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.average((predicted - measured) ** 2, weights=w)))


def fit_polynomial(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    folds: Folds,
    candidates: list[int],
    physical: list[int],
    degree: int = 2,
) -> tuple[LayerModel, np.ndarray]:
    """Power-law base plus a sparse polynomial correction of its residual.

    Returns the model and out-of-fold predictions. Term sets are proposed on the
    full data; each is scored by refitting base and correction on the training
    folds and predicting the held-out fold as prediction will: variables clipped
    to the training folds' range, the correction held within the residuals it
    was fitted to.
    """
    spec = select_base(z, y, w, folds, physical)
    columns = varying(z, candidates)
    terms = polynomial_terms(columns, degree)
    x = term_matrix(z, terms)
    base = fit_base(z, y, w, spec)
    residual = y - base.predict(z)
    smallest_train = min(len(train) for train, _ in folds.splits)
    supports = _candidate_supports(x, residual, w, max_size=max(0, smallest_train - 3))
    prepared = []
    for train, test in folds.splits:
        fold_base = fit_base(z[train], y[train], w[train], spec)
        fold_residual = y[train] - fold_base.predict(z[train])
        prepared.append(
            (
                train,
                test,
                fold_residual,
                fold_base.predict(z[test]),
                term_matrix(clip_to(z[test], training_range(z[train], columns)), terms),
            )
        )
    best = None
    scored = folds.scored
    for support in supports:
        chosen = list(support)
        oof = np.full_like(y, np.nan)
        for train, test, fold_residual, base_test, x_test in prepared:
            intercept, coef = weighted_least_squares(x[np.ix_(train, chosen)], fold_residual, w[train])
            correction = intercept + x_test[:, chosen] @ coef
            oof[test] = base_test + np.clip(correction, fold_residual.min(), fold_residual.max())
        error = weighted_log_rmse(oof[scored], y[scored], w[scored])
        # a larger term set must beat the best so far by 1% to be kept
        if best is None or error < best[0] * 0.99:
            best = (error, chosen, oof)
    _, chosen, oof = best
    intercept, coef = weighted_least_squares(x[:, chosen], residual, w)
    linear, quadratic = {}, {}
    for c, k in zip(coef, chosen):
        term = terms[k]
        if len(term) == 1:
            linear[term[0]] = float(c)
        else:
            quadratic[term] = float(c)
    used = sorted(set(linear) | {i for pair in quadratic for i in pair})
    model = LayerModel(
        "polynomial",
        intercept,
        linear,
        quadratic,
        training_range(z, used),
        (float(residual.min() - intercept), float(residual.max() - intercept)),
        base,
    )
    return model, oof


def _fit_trees_once(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, candidates: list[int], spec: tuple[str, list[int]]
) -> LayerModel:
    base = fit_base(z, y, w, spec)
    columns = varying(z, candidates) or candidates[:1]
    residual = y - base.predict(z)
    trees = fit_boosted_trees(z[:, columns], residual, w, TREE_COUNT, TREE_DEPTH)
    trees.feature = np.asarray(columns, dtype=np.intp)[trees.feature]
    return LayerModel(
        "trees", 0.0, {}, {}, training_range(z, columns), (float(residual.min()), float(residual.max())), base, trees
    )


def fit_trees(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, folds: Folds, candidates: list[int], physical: list[int]
) -> tuple[LayerModel, np.ndarray]:
    """Physical base plus boosted trees on its residual; returns the model and out-of-fold predictions."""
    spec = select_base(z, y, w, folds, physical)
    oof = np.full_like(y, np.nan)
    for train, test in folds.splits:
        oof[test] = _fit_trees_once(z[train], y[train], w[train], candidates, spec).predict_log(z[test])
    return _fit_trees_once(z, y, w, candidates, spec), oof


def _split_points(column: np.ndarray, bins: int) -> np.ndarray:
    """Thresholds halfway between neighbouring distinct values (at most `bins` - 1 of them)."""
    values = np.unique(column)
    if values.size > bins:
        values = np.unique(np.quantile(column, np.linspace(0, 1, bins)))
    return (values[:-1] + values[1:]) / 2


def fit_boosted_trees(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_trees: int,
    depth: int,
    learning_rate: float = 0.1,
    min_leaf: int = 3,
    bins: int = 32,
) -> Trees:
    """Weighted least-squares gradient boosting of oblivious trees (one test per level, as CatBoost
    grows them), each level chosen on histograms so it costs a handful of array operations.
    Trees index the columns of x; the caller maps them to variable indices."""
    n, p = x.shape
    w = w / w.mean()
    cuts = [_split_points(x[:, f], bins) for f in range(p)]
    width = max(1, max(len(c) for c in cuts) + 1)
    threshold_table = np.full((p, width), np.inf)
    binned = np.zeros((n, p), dtype=np.intp)
    for f, c in enumerate(cuts):
        threshold_table[f, : len(c)] = c
        binned[:, f] = np.searchsorted(c, x[:, f], side="left")  # bin b: exactly b thresholds below x
    offsets = np.arange(p) * width
    # a test must leave min_leaf layers on each side (over all nodes) and have a threshold
    below = np.cumsum(np.bincount((offsets[None, :] + binned).ravel(), minlength=p * width).reshape(p, width), axis=1)
    allowed = (below >= min_leaf) & (n - below >= min_leaf) & np.isfinite(threshold_table)
    repeated_w = np.repeat(w, p)
    feature = np.zeros((n_trees, depth), dtype=np.intp)
    threshold = np.full((n_trees, depth), np.inf)
    leaf = np.zeros((n_trees, 2**depth))
    prediction = np.zeros(n)
    for t in range(n_trees):
        residual = y - prediction
        node = np.zeros(n, dtype=np.intp)
        for level in range(depth):
            nodes = 2**level
            index = (node[:, None] * (p * width) + offsets[None, :] + binned).ravel()
            size = nodes * p * width
            sums = np.bincount(index, np.repeat(residual * w, p), minlength=size).reshape(nodes, p, width)
            mass = np.bincount(index, repeated_w, minlength=size).reshape(nodes, p, width)
            left_sum, left_mass = np.cumsum(sums, axis=2), np.cumsum(mass, axis=2)
            right_sum, right_mass = left_sum[:, :, -1:] - left_sum, left_mass[:, :, -1:] - left_mass
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = (
                    np.where(left_mass > 0, left_sum**2 / left_mass, 0.0)
                    + np.where(right_mass > 0, right_sum**2 / right_mass, 0.0)
                ).sum(axis=0)
            gain -= _unsplit_gain(left_sum, left_mass)
            gain[~allowed] = -np.inf
            best = int(np.argmax(gain))
            if gain.flat[best] > 1e-12:
                f, b = divmod(best, width)
                feature[t, level], threshold[t, level] = f, threshold_table[f, b]
                node = 2 * node + (binned[:, f] > b)
            else:  # no test helps: this level's bit stays 0 for every layer
                node = 2 * node
        leaf_sum = np.bincount(node, residual * w, minlength=2**depth)
        leaf_mass = np.bincount(node, w, minlength=2**depth)
        values = learning_rate * np.divide(leaf_sum, leaf_mass, out=np.zeros(2**depth), where=leaf_mass > 0)
        leaf[t] = values
        prediction += values[node]
    return Trees(depth, feature, threshold, leaf)


def _unsplit_gain(left_sum: np.ndarray, left_mass: np.ndarray) -> float:
    """Sum over a level's nodes of (node sum)^2 / (node mass): the score before the level's test."""
    total_sum, total_mass = left_sum[:, 0, -1], left_mass[:, 0, -1]
    return float(np.sum(np.divide(total_sum**2, total_mass, out=np.zeros_like(total_sum), where=total_mass > 0)))


def rmspe(predicted: np.ndarray, measured: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((predicted - measured) / measured) ** 2)))


def precision_weights(relative_ci: np.ndarray | None, n: int) -> np.ndarray:
    """Rows weigh by how precisely they were measured: 1 / (floor^2 + relative CI half-width^2), mean 1.

    The floor is the model error no measurement can beat, so precise rows do not dominate; a row
    whose precision is unknown (NaN) counts as the least precise row there is."""
    if relative_ci is None:
        return np.ones(n)
    ci = np.asarray(relative_ci, dtype=float)
    known = np.isfinite(ci)
    ci = np.where(known, ci, ci[known].max() if known.any() else 0.0)
    weights = 1.0 / (MODEL_ERROR_FLOOR**2 + ci**2)
    return weights / weights.mean()


def blend(polynomial: LayerModel, trees: LayerModel) -> LayerModel:
    """The geometric mean of a polynomial and a tree model fitted on the same base, as one model.

    The two err in different places: the polynomial extrapolates smoothly but can
    bend the wrong way on a configuration unlike its training rows, the trees stay
    within what they saw but step. Half of each correction, held within half of
    each range, is one more candidate for `auto` to score."""
    low = (polynomial.correction_range[0] + trees.correction_range[0]) / 2
    high = (polynomial.correction_range[1] + trees.correction_range[1]) / 2
    half = Trees(trees.trees.depth, trees.trees.feature, trees.trees.threshold, trees.trees.leaf / 2)
    return LayerModel(
        "blend",
        polynomial.intercept / 2,
        {i: c / 2 for i, c in polynomial.linear.items()},
        {pair: c / 2 for pair, c in polynomial.quadratic.items()},
        {**trees.clip, **polynomial.clip},
        (low, high),
        polynomial.base,
        half,
    )


def fit_op_model(
    z: np.ndarray,
    y_log: np.ndarray,
    groups: np.ndarray,
    variables: list[str],
    candidates: list[int],
    family: str = "auto",
    relative_ci: np.ndarray | None = None,
    always_train: np.ndarray | None = None,
    rate_limited: bool = False,
    sweeps_optional: bool = False,
    judged: np.ndarray | None = None,
    time_share: np.ndarray | None = None,
) -> tuple[LayerModel, np.ndarray]:
    """The chosen family's model for one op type, and its out-of-fold log predictions.

    `family` is a user's choice (FAMILIES) or "blend", which a refit inside cross-validation
    asks for when `auto` picked the blend on all data, either of them WITHOUT_SWEEPS when that was
    picked. Rows in `always_train` (see make_folds)
    get no out-of-fold prediction (NaN), and errors are measured on the others. The model of a
    `rate_limited` target (latency) predicts no layer larger than its training layers faster than
    their best MACs per unit; it is chosen, and its residuals taken, without that bound,
    which acts only outside the range the choice was scored on.

    With `sweeps_optional` (an op's own model, fitted on all data), where the `always_train` rows
    (layer sweeps) are in every fold and the families' own rows are scored, the same family fitted
    without them is a candidate too: a default run's sweep draws
    only a few configurations of a rare kind (three depthwise convolutions, two average pools),
    tiny ones whose launch cost a model then carries to a held-out family's large layers of that
    kind. The sweep is kept unless leaving it out predicts the held-out families 2% better: on the rows in
    `judged` where given (a model shared by several ops is judged on the ops it costs once their family is held
    out, not on the many it never costs then), and with none of them scored, the sweep is kept. Each judged row
    weighs by its precision times its `time_share` where given (its share of the networks' time, see
    pipeline._network_time_shares): a network's error is its large repeated layers', and a few of them would
    otherwise count for less than many tiny configurations of no weight in any network.

    The model carries its out-of-fold residuals (for intervals) and CV figures."""
    sweeps = np.zeros(len(y_log), dtype=bool) if always_train is None else np.asarray(always_train, dtype=bool)
    if family.endswith(WITHOUT_SWEEPS):
        family = family.removesuffix(WITHOUT_SWEEPS)
        if (~sweeps).sum() >= MIN_ROWS_WITHOUT_SWEEPS:  # else a fold left too few of the op's own rows
            return _without_sweeps(z, y_log, groups, variables, candidates, family, relative_ci, sweeps, rate_limited)
    folds = make_folds(groups, always_train=always_train)
    scored = folds.scored
    w = precision_weights(relative_ci, len(y_log))
    physical = [variables.index(name) for name in POWER_LAW_VARIABLES if name in variables]
    fitted = {}
    if family in ("polynomial", "auto", "blend"):
        fitted["polynomial"] = fit_polynomial(z, y_log, w, folds, candidates, physical)
    if family in ("trees", "auto", "blend"):
        fitted["trees"] = fit_trees(z, y_log, w, folds, candidates, physical)
    if family in ("auto", "blend"):  # out of fold: the mean of the two models' log predictions
        (polynomial, polynomial_oof), (trees, trees_oof) = fitted["polynomial"], fitted["trees"]
        fitted["blend"] = (blend(polynomial, trees), (polynomial_oof + trees_oof) / 2)
        if family == "blend":
            fitted = {"blend": fitted["blend"]}
    errors = {name: weighted_log_rmse(oof[scored], y_log[scored], w[scored]) for name, (_, oof) in fitted.items()}
    chosen = min(errors, key=errors.get)
    model, oof = fitted[chosen]
    judge = scored if judged is None else scored[np.asarray(judged, dtype=bool)[scored]]
    # family folds, sweeps in every training part
    if sweeps_optional and sweeps.any() and not sweeps[scored].any() and judge.size:
        alone, alone_oof = _without_sweeps(
            z, y_log, groups, variables, candidates, family, relative_ci, sweeps, rate_limited
        )
        errors.update({f"{name}{WITHOUT_SWEEPS}": e for name, e in alone.cv["weighted_log_rmse"].items()})
        weight = w[judge] * time_share[judge] if time_share is not None and time_share[judge].sum() > 0 else w[judge]
        with_sweeps = weighted_log_rmse(oof[judge], y_log[judge], weight)
        if weighted_log_rmse(alone_oof[judge], y_log[judge], weight) < with_sweeps * SWEEPS_MARGIN:
            alone.cv = {**alone.cv, "weighted_log_rmse": errors}  # its rows: the ones it was fitted on
            alone.cv["family"] += WITHOUT_SWEEPS
            return alone, alone_oof
    if rate_limited:
        model.rate_limit = rate_limits(
            z, y_log, [variables.index(name) for name in RATE_VARIABLES if name in variables]
        )
    model.coverage = training_range(z, candidates)
    model.residuals = (y_log - oof)[scored]
    model.cv = {
        "rows": int(len(y_log)),
        "scored_rows": int(len(scored)),
        "folds": len(folds.splits),
        "scheme": folds.scheme,
        "rmspe": rmspe(np.exp(oof[scored]), np.exp(y_log[scored])),
        "mape": float(np.mean(np.abs(np.exp(oof[scored] - y_log[scored]) - 1))),
        "weighted_log_rmse": errors,
        "family": chosen,
    }
    return model, oof


def _without_sweeps(
    z: np.ndarray,
    y_log: np.ndarray,
    groups: np.ndarray,
    variables: list[str],
    candidates: list[int],
    family: str,
    relative_ci: np.ndarray | None,
    sweeps: np.ndarray,
    rate_limited: bool,
) -> tuple[LayerModel, np.ndarray]:
    """fit_op_model on the rows that are not sweeps; the sweeps' out-of-fold predictions are NaN, as
    when they are in every fold."""
    own = ~sweeps
    model, own_oof = fit_op_model(
        z[own],
        y_log[own],
        groups[own],
        variables,
        candidates,
        family,
        None if relative_ci is None else relative_ci[own],
        None,
        rate_limited,
    )
    oof = np.full(len(y_log), np.nan)
    oof[own] = own_oof
    return model, oof
