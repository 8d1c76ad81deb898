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
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import lasso_path, orthogonal_mp

from hwprof.features import PHYSICAL_VARIABLES
from hwprof.layer_models import LayerModel, Trees

FAMILIES = ("polynomial", "trees", "auto")
MIN_ROWS = 6  # unique configurations an op type needs for a model of its own
MAX_FOLDS = 8
TREE_DEPTH = 3
TREE_COUNT = 100
RIDGE = 1e-6  # keeps refits defined when terms are collinear
MAX_FORWARD_TERMS = 25


@dataclass
class Folds:
    splits: list[tuple[np.ndarray, np.ndarray]]
    scheme: str  # how rows were split, for the report


def make_folds(groups: np.ndarray, seed: int = 0) -> Folds:
    """Leave one family out when there are 3+ families, else k-fold over rows."""
    groups = np.asarray(groups)
    labels = np.unique(groups)
    n = len(groups)
    if len(labels) >= 3:
        if len(labels) > MAX_FOLDS:  # merge families into MAX_FOLDS folds, each family kept whole
            rng = np.random.default_rng(seed)
            fold_of = dict(zip(rng.permutation(labels), itertools.cycle(range(MAX_FOLDS))))
            fold = np.array([fold_of[g] for g in groups])
            scheme = f"{MAX_FOLDS} folds of whole families"
        else:
            fold = np.searchsorted(labels, groups)
            scheme = "leave-one-family-out"
    else:
        k = min(5, n)
        fold = np.random.default_rng(seed).permutation(n) % k
        scheme = f"{k}-fold over rows ({len(labels)} famil{'y' if len(labels) == 1 else 'ies'})"
    splits = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in np.unique(fold)]
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


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Intercept and coefficients, with a tiny ridge for collinear terms."""
    if x.shape[1] == 0:
        return float(y.mean()), np.zeros(0)
    mean_x, mean_y = x.mean(axis=0), y.mean()
    xc = x - mean_x
    gram = xc.T @ xc
    gram[np.diag_indices_from(gram)] += RIDGE * (np.trace(gram) / max(1, x.shape[1]) + 1.0)
    coef = np.linalg.solve(gram, xc.T @ (y - mean_y))
    return float(mean_y - mean_x @ coef), coef


def _candidate_supports(x: np.ndarray, y: np.ndarray, max_size: int) -> list[tuple[int, ...]]:
    """Distinct term sets along the Lasso path and the forward-selection (OMP) path, smallest first.

    The Lasso path is robust to noise; forward selection finds exact sparse laws
    among strongly correlated terms (bytes and MACs often are), where Lasso mixes them.
    """
    supports = {()}
    scale = x.std(axis=0)
    usable = scale > 1e-12
    if usable.any() and max_size > 0:
        xs = (x[:, usable] - x[:, usable].mean(axis=0)) / scale[usable]
        yc = y - y.mean()
        columns = np.flatnonzero(usable)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and degenerate-path notices on tiny samples
            _, coefs, _ = lasso_path(xs, yc, alphas=40, eps=1e-4, max_iter=5000)
            steps = min(max_size, xs.shape[1], MAX_FORWARD_TERMS)
            forward = orthogonal_mp(xs, yc, n_nonzero_coefs=steps, return_path=True)
        forward = forward.reshape(xs.shape[1], -1)
        for path in (coefs, forward):
            for k in range(path.shape[1]):
                support = tuple(columns[np.abs(path[:, k]) > 1e-12])
                if len(support) <= max_size:
                    supports.add(support)
    return sorted(supports, key=lambda s: (len(s), s))


def fit_polynomial(z: np.ndarray, y: np.ndarray, folds: Folds, candidates: list[int],
                   degree: int = 2) -> tuple[LayerModel, np.ndarray]:
    """Sparse polynomial in the candidate variables; returns the model and out-of-fold predictions."""
    terms = polynomial_terms(varying(z, candidates), degree)
    x = term_matrix(z, terms)
    smallest_train = min(len(train) for train, _ in folds.splits)
    supports = _candidate_supports(x, y, max_size=max(0, smallest_train - 2))
    best = None
    for support in supports:
        columns = list(support)
        oof = np.empty_like(y)
        for train, test in folds.splits:
            intercept, coef = _least_squares(x[np.ix_(train, columns)], y[train])
            oof[test] = intercept + x[np.ix_(test, columns)] @ coef
        error = float(np.sqrt(np.mean((oof - y) ** 2)))
        # a larger term set must beat the best so far by 1% to be kept
        if best is None or error < best[0] * 0.99:
            best = (error, columns, oof)
    error, columns, oof = best
    intercept, coef = _least_squares(x[:, columns], y)
    linear, quadratic = {}, {}
    for c, k in zip(coef, columns):
        term = terms[k]
        if len(term) == 1:
            linear[term[0]] = linear.get(term[0], 0.0) + float(c)
        else:
            quadratic[term] = quadratic.get(term, 0.0) + float(c)
    model = LayerModel("polynomial", intercept, linear, quadratic)
    return model, oof


def _loglinear_base(z: np.ndarray, y: np.ndarray, physical: list[int]) -> tuple[float, dict[int, float]]:
    columns = varying(z, physical)
    intercept, coef = _least_squares(z[:, columns], y)
    return intercept, dict(zip(columns, (float(c) for c in coef)))


def _fit_trees_once(z: np.ndarray, y: np.ndarray, candidates: list[int], physical: list[int]) -> LayerModel:
    intercept, linear = _loglinear_base(z, y, physical)
    base = intercept + sum(c * z[:, i] for i, c in linear.items()) if linear else np.full_like(y, intercept)
    columns = varying(z, candidates) or candidates[:1]
    trees = fit_boosted_trees(z[:, columns], y - base, TREE_COUNT, TREE_DEPTH)
    trees.feature = np.asarray(columns, dtype=np.intp)[trees.feature]
    return LayerModel("trees", intercept, linear, {}, trees)


def fit_trees(z: np.ndarray, y: np.ndarray, folds: Folds | None, candidates: list[int],
              physical: list[int]) -> tuple[LayerModel, np.ndarray | None]:
    oof = None
    if folds is not None:
        oof = np.empty_like(y)
        for train, test in folds.splits:
            oof[test] = _fit_trees_once(z[train], y[train], candidates, physical).predict_log(z[test])
    return _fit_trees_once(z, y, candidates, physical), oof


def _split_points(column: np.ndarray, bins: int) -> np.ndarray:
    """Thresholds halfway between neighbouring distinct values (at most `bins` - 1 of them)."""
    values = np.unique(column)
    if values.size > bins:
        values = np.unique(np.quantile(column, np.linspace(0, 1, bins)))
    return (values[:-1] + values[1:]) / 2


def fit_boosted_trees(x: np.ndarray, y: np.ndarray, n_trees: int, depth: int, learning_rate: float = 0.1,
                      min_leaf: int = 3, bins: int = 32) -> Trees:
    """Least-squares gradient boosting of complete depth-`depth` trees, grown level by level on
    histograms (as LightGBM does), so a level costs a handful of array operations.
    Trees index the columns of x; the caller maps them to variable indices."""
    n, p = x.shape
    cuts = [_split_points(x[:, f], bins) for f in range(p)]
    width = max(1, max(len(c) for c in cuts) + 1)
    threshold_table = np.full((p, width), np.inf)
    binned = np.zeros((n, p), dtype=np.intp)
    for f, c in enumerate(cuts):
        threshold_table[f, :len(c)] = c
        binned[:, f] = np.searchsorted(c, x[:, f], side="left")  # bin b: exactly b thresholds below x
    splittable = np.isfinite(threshold_table)[None]
    offsets = np.arange(p) * width
    rows = np.arange(n)
    n_internal = 2 ** depth - 1
    feature = np.zeros((n_trees, n_internal), dtype=np.intp)
    threshold = np.full((n_trees, n_internal), np.inf)
    leaf = np.zeros((n_trees, 2 ** depth))
    prediction = np.zeros(n)
    for t in range(n_trees):
        residual = y - prediction
        node = np.zeros(n, dtype=np.intp)
        for level in range(depth):
            nodes = 2 ** level
            index = (node[:, None] * (p * width) + offsets[None, :] + binned).ravel()
            size = nodes * p * width
            sums = np.bincount(index, np.repeat(residual, p), minlength=size).reshape(nodes, p, width)
            counts = np.bincount(index, minlength=size).reshape(nodes, p, width).astype(float)
            left_sum, left_count = np.cumsum(sums, axis=2), np.cumsum(counts, axis=2)
            total_sum, total_count = left_sum[:, :, -1:], left_count[:, :, -1:]
            right_sum, right_count = total_sum - left_sum, total_count - left_count
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = left_sum ** 2 / left_count + right_sum ** 2 / right_count - total_sum ** 2 / total_count
            gain[(left_count < min_leaf) | (right_count < min_leaf) | ~splittable] = -np.inf
            flat = gain.reshape(nodes, -1)
            best = np.argmax(flat, axis=1)
            split = flat[np.arange(nodes), best] > 1e-12
            best_feature, best_bin = np.divmod(best, width)
            position = nodes - 1 + np.arange(nodes)
            feature[t, position] = np.where(split, best_feature, 0)
            threshold[t, position] = np.where(split, threshold_table[best_feature, best_bin], np.inf)
            goes_right = split[node] & (binned[rows, best_feature[node]] > best_bin[node])
            node = 2 * node + goes_right
        leaf_sum = np.bincount(node, residual, minlength=2 ** depth)
        leaf_count = np.bincount(node, minlength=2 ** depth)
        values = learning_rate * np.divide(leaf_sum, leaf_count, out=np.zeros(2 ** depth), where=leaf_count > 0)
        leaf[t] = values
        prediction += values[node]
    return Trees(depth, feature, threshold, leaf)


def log_rmse(predicted_log: np.ndarray, measured_log: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted_log - measured_log) ** 2)))


def rmspe(predicted: np.ndarray, measured: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((predicted - measured) / measured) ** 2)))


def fit_op_model(z: np.ndarray, y_log: np.ndarray, groups: np.ndarray, variables: list[str],
                 candidates: list[int], family: str = "auto", score: bool = True) -> LayerModel:
    """The chosen family's model for one op type, with its out-of-fold residuals and CV figures.

    With score=False (refits inside an outer cross-validation, family already chosen)
    trees are fitted once without their own cross-validation; polynomials still
    cross-validate, because that is how their terms are chosen.
    """
    folds = make_folds(groups)
    physical = [variables.index(name) for name in PHYSICAL_VARIABLES if name in variables]
    if not score and family == "trees":
        model, _ = fit_trees(z, y_log, None, candidates, physical)
        return model
    fitted = {}
    if family in ("polynomial", "auto"):
        fitted["polynomial"] = fit_polynomial(z, y_log, folds, candidates)
    if family in ("trees", "auto"):
        fitted["trees"] = fit_trees(z, y_log, folds, candidates, physical)
    errors = {name: log_rmse(oof, y_log) for name, (_, oof) in fitted.items()}
    chosen = min(errors, key=errors.get)
    model, oof = fitted[chosen]
    model.residuals = y_log - oof
    model.cv = {
        "rows": int(len(y_log)),
        "folds": len(folds.splits),
        "scheme": folds.scheme,
        "rmspe": rmspe(np.exp(oof), np.exp(y_log)),
        "mape": float(np.mean(np.abs(np.exp(oof - y_log) - 1))),
        "log_rmse": errors,
        "family": chosen,
    }
    return model
