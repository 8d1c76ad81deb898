"""A per-op-type layer cost model as plain arrays, and its evaluation.

Every model predicts log(target) from the layer variables z (features.py) as a
physical base plus a correction:

    log y = base(z)                                                     (PhysicalBase: roofline or power law)
          + intercept
          + clip( sum_i linear_i c_i + sum_(i,j) quadratic_ij c_i c_j   (polynomial correction)
                  + sum_t tree_t(c),                                    (or tree correction)
                  correction_range)

where c = z clipped to the range seen in training and correction_range is
the span of the residuals the correction was fitted to. The base
extrapolates like hardware does to layers larger or smaller than any
measured; the correction refines within the measured range and stays within
what it did in training, so a polynomial fitted on small layers cannot
explode on a large one.

A latency model also never predicts a layer larger than any it was trained on
to run faster than the best rate its training layers reached (MACs per ms):
a power law fitted where larger layers run ever more
efficiently would otherwise let a layer ten times larger than any measured
run faster than the hardware ever did.
Trees are oblivious (one test per level), so a batch of layers evaluates all
trees with a few array operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hwprof.errors import shown
from hwprof.predictor.features import op_group
from hwprof.predictor.intervals import log_bounds


@dataclass
class Trees:
    """Oblivious trees: every node of a level tests the same variable against the same threshold.

    A layer's leaf is then the binary number of its `depth` test results, so a
    batch of layers and trees is evaluated with one gather, one comparison and
    one dot product, whatever the depth."""

    depth: int
    feature: np.ndarray  # (n_trees, depth) variable index tested at each level
    threshold: np.ndarray  # (n_trees, depth); the bit is 1 when z > threshold
    leaf: np.ndarray  # (n_trees, 2**depth), indexed by the bits (first level most significant), scaled

    def predict(self, z: np.ndarray) -> np.ndarray:
        bits = z[:, self.feature] > self.threshold  # (n, trees, depth)
        index = bits @ (1 << np.arange(self.depth - 1, -1, -1))
        return self.leaf[np.arange(self.feature.shape[0]), index].sum(axis=1)


TINY_COST = 1e-12  # floor of a roofline base before its log


def ranges_json(ranges: dict[int, tuple[float, float]], variables: list[str]) -> dict:
    """Per-variable (low, high) ranges in the predictor file's form."""
    return {
        "variables": [variables[i] for i in ranges],
        "low": [float(lo) for lo, _ in ranges.values()],
        "high": [float(hi) for _, hi in ranges.values()],
    }


def ranges_from_json(
    section: dict, index: dict[str, int], label: str = "a range", part: str = ""
) -> dict[int, tuple[float, float]]:
    return {
        index[name]: (float(lo), float(hi))
        for name, lo, hi in _columns(section, ("variables", "low", "high"), label, part)
    }


KINDS = ("polynomial", "trees", "blend")  # hwprof.fitting.layers' families, and the blend of both
FORMS = ("power", "launch_power", "roofline")  # PhysicalBase's


def _columns(section: dict, keys: tuple[str, ...], label: str, part: str = "") -> zip:
    """A file's parallel lists, one value per entry of the first: zip alone would drop the entries past the
    shortest and predict with a damaged model (loading wraps the ValueError in its refit-it sentence)."""
    lengths = [len(section[key]) for key in keys]
    for key, length in zip(keys[1:], lengths[1:]):
        if length != lengths[0]:
            raise ValueError(f"{label} has {length} {part}{key} values for its {lengths[0]} {part}{keys[0]}")
    return zip(*(section[key] for key in keys))


def _known(value: object, known: tuple[str, ...], what: str, label: str) -> str:
    if value not in known:
        raise ValueError(f"{label} has {what} {shown(value)}, unknown to this hwprof (it knows {', '.join(known)})")
    return value


def rate_floor(z: np.ndarray, rate_limit: dict[int, tuple[float, float]]) -> np.ndarray:
    """log latency below which a layer beyond the training range cannot run: its work over the best
    rate measured, per work variable (rate_limit: variable -> (log best rate, largest z trained on))."""
    floor = np.full(z.shape[0], -np.inf)
    for i, (peak, largest) in rate_limit.items():
        beyond = z[:, i] > largest
        if beyond.any():
            floor[beyond] = np.maximum(floor[beyond], np.log(np.expm1(z[beyond, i])) - peak)
    return floor


@dataclass
class PhysicalBase:
    """The physical part of a layer model, in one of three forms.

    power:        base = intercept + sum_i coef_i z_i                (a power law in MACs and/or bytes)
    launch_power: base = log(launch + exp(intercept + sum_i coef_i z_i))   (fixed cost + a power law)
    roofline:     base = log(intercept + sum_i coef_i v_i)           (fixed cost + time per MAC + per byte)

    with v_i = expm1(z_i) the raw variable. The roofline form extrapolates the way
    hardware behaves: to a fixed launch cost for tiny layers and linearly in work
    for large ones. A power law's slope may exceed 1 over its training sizes (noisy
    layers on a loaded machine fit bytes^2), but beyond the largest size trained on
    (`largest`) it goes on at slope 1 at most: no layer costs more than linearly in
    work past what was measured, where a slope of 2 predicted hours per layer. A power law alone bends down without end for tiny layers, so a
    model of an op timed mostly on large layers leaves a tiny one's launch cost to
    its correction, which then reaches, through the terms it shares, large layers of
    the same kind (small depthwise convolutions taught a model that MobileNet's were
    20x slower than they are); launch_power keeps both the fixed cost and the power
    law's gradual gain in efficiency. Cross-validated error chooses per op."""

    form: str
    intercept: float  # power, launch_power: log-space intercept; roofline: fixed cost in the target's unit
    coef: dict[int, float]
    launch: float = 0.0  # launch_power: the fixed cost, in the target's unit
    largest: dict[int, float] = field(default_factory=dict)  # power forms: the largest z trained on, per variable

    def predict(self, z: np.ndarray) -> np.ndarray:
        total = np.full(z.shape[0], self.intercept)
        if self.form == "roofline":
            for i, c in self.coef.items():
                total += c * np.expm1(z[:, i])
            return np.log(np.maximum(total, TINY_COST))
        for i, c in self.coef.items():
            total += c * z[:, i]
            if c > 1 and i in self.largest:  # slope 1 beyond the training sizes
                total -= (c - 1) * np.maximum(z[:, i] - self.largest[i], 0.0)
        return np.logaddexp(np.log(self.launch), total) if self.form == "launch_power" else total

    def to_json(self, variables: list[str]) -> dict:
        doc = {
            "form": self.form,
            "intercept": float(self.intercept),
            "variables": [variables[i] for i in self.coef],
            "coef": [float(c) for c in self.coef.values()],
        }
        if self.form == "launch_power":
            doc["launch"] = float(self.launch)
        if self.largest:
            doc["largest"] = [float(self.largest[i]) if i in self.largest else None for i in self.coef]
        return doc

    @classmethod
    def from_json(
        cls, doc: dict, index: dict[str, int], label: str = "a layer model", *, trained: dict
    ) -> PhysicalBase:
        """From the file's form; a file without `largest` (written before it) takes the edges of `trained`,
        the op's training range."""
        coef = {index[name]: float(c) for name, c in _columns(doc, ("variables", "coef"), label, "base ")}
        if "largest" in doc:
            edges = dict(zip(coef, doc["largest"], strict=True))
            largest = {i: float(edge) for i, edge in edges.items() if edge is not None}
        else:
            largest = {i: high for i, (_, high) in trained.items() if i in coef}
        form = _known(doc["form"], FORMS, "a base of form", label)
        return cls(
            form, float(doc["intercept"]), coef, float(doc.get("launch", 0.0)), {} if form == "roofline" else largest
        )


@dataclass
class LayerModel:
    kind: str  # "polynomial", "trees" or "blend" (half of each: fit_layers.blend)
    intercept: float  # of the correction, in log space
    linear: dict[int, float]  # variable index -> coefficient on clipped z
    quadratic: dict[tuple[int, int], float]  # (i, j), i <= j -> coefficient on clipped z
    clip: dict[int, tuple[float, float]]  # variable index -> training range, for the correction
    correction_range: tuple[float, float]  # the residuals the correction was fitted to; held within them
    base: PhysicalBase
    trees: Trees | None = None
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0))  # out-of-fold log(measured/predicted)
    cv: dict = field(default_factory=dict)
    rate_limit: dict[int, tuple[float, float]] = field(default_factory=dict)  # see rate_floor
    # the training range of every variable of the op, used by the model or not (one constant in training,
    # as groups is where no depthwise convolution was measured, included): a layer beyond it is uncovered
    coverage: dict[int, tuple[float, float]] = field(default_factory=dict)

    def clipped(self, z: np.ndarray) -> np.ndarray:
        c = z.copy()
        for i, (low, high) in self.clip.items():
            np.clip(c[:, i], low, high, out=c[:, i])
        return c

    def predict_log(self, z: np.ndarray) -> np.ndarray:
        out = self.base.predict(z) + self.intercept
        c = self.clipped(z)
        correction = np.zeros(z.shape[0])
        for i, coef in self.linear.items():
            correction += coef * c[:, i]
        for (i, j), coef in self.quadratic.items():
            correction += coef * c[:, i] * c[:, j]
        if self.trees is not None:
            correction += self.trees.predict(c)
        return np.maximum(out + np.clip(correction, *self.correction_range), rate_floor(z, self.rate_limit))

    # --- plain-array form for the predictor file ---

    def to_json(self, variables: list[str]) -> dict:
        doc = {
            "kind": self.kind,
            "intercept": float(self.intercept),
            "base": self.base.to_json(variables),
            "linear": {
                "variables": [variables[i] for i in self.linear],
                "coef": [float(c) for c in self.linear.values()],
            },
            "quadratic": {
                "pairs": [[variables[i], variables[j]] for i, j in self.quadratic],
                "coef": [float(c) for c in self.quadratic.values()],
            },
            "clip": ranges_json(self.clip, variables),
            "correction_range": [float(v) for v in self.correction_range],
            "rate_limit": {
                "variables": [variables[i] for i in self.rate_limit],
                "peak_log_rate": [float(peak) for peak, _ in self.rate_limit.values()],
                "largest": [float(largest) for _, largest in self.rate_limit.values()],
            },
            "coverage": ranges_json(self.coverage, variables),
            "residuals_log": [round(float(r), 6) for r in np.sort(self.residuals)],
            "cv": self.cv,
        }
        if self.trees is not None:
            doc["trees"] = {
                "depth": self.trees.depth,
                "feature": [[variables[i] for i in row] for row in self.trees.feature],
                "threshold": [[float(t) if np.isfinite(t) else None for t in row] for row in self.trees.threshold],
                "leaf": self.trees.leaf.tolist(),
            }
        return doc

    @classmethod
    def from_json(cls, doc: dict, variables: list[str], label: str = "a layer model") -> LayerModel:
        """From the file's form; `label` names the model (the latency_ms model of relu) where a part is damaged."""
        index = {name: i for i, name in enumerate(variables)}
        linear = _columns(doc["linear"], ("variables", "coef"), label, "linear ")
        quadratic = {}
        for pair, c in _columns(doc["quadratic"], ("pairs", "coef"), label, "quadratic "):
            a, b = pair
            quadratic[index[a], index[b]] = float(c)
        clip = ranges_from_json(doc["clip"], index, label, "clip ")
        trees = None
        if doc.get("trees"):
            t = doc["trees"]
            trees = Trees(
                depth=int(t["depth"]),
                feature=np.array([[index[name] for name in row] for row in t["feature"]], dtype=np.intp),
                threshold=np.array([[np.inf if v is None else v for v in row] for row in t["threshold"]], dtype=float),
                leaf=np.array(t["leaf"], dtype=float),
            )
            tests, leaves = (len(trees.feature), trees.depth), (len(trees.feature), 2**trees.depth)
            if trees.feature.shape != tests or trees.threshold.shape != tests or trees.leaf.shape != leaves:
                raise ValueError(f"{label}'s trees do not hold one test per level and one leaf per path")
        low, high = doc["correction_range"]
        coverage = ranges_from_json(doc["coverage"], index, label, "coverage ") if "coverage" in doc else dict(clip)
        limit = doc.get("rate_limit", {"variables": [], "peak_log_rate": [], "largest": []})  # absent: older files
        return cls(
            _known(doc["kind"], KINDS, "kind", label),
            float(doc["intercept"]),
            {index[name]: float(c) for name, c in linear},
            quadratic,
            clip,
            (float(low), float(high)),
            PhysicalBase.from_json(doc["base"], index, label, trained=coverage),
            trees,
            np.array(doc.get("residuals_log", []), dtype=float),
            doc.get("cv", {}),
            {
                index[name]: (float(peak), float(largest))
                for name, peak, largest in _columns(
                    limit, ("variables", "peak_log_rate", "largest"), label, "rate_limit "
                )
            },
            coverage,  # older files: the correction's range
        )


class StackedLayerModels:
    """All op models of one target in stacked arrays: one pass evaluates any mix of op types.

    The power laws become one weight matrix over z and the polynomial
    corrections one over [c, c_i c_j] (every model's terms side by side), so a
    batch of layers costs two clips and two matrix products; trees of one
    depth become flat node tables walked level by level for all trees at once.
    """

    def __init__(self, models: list[LayerModel], n_variables: int):
        pairs = sorted({pair for model in models for pair in model.quadratic})
        pair_index = {pair: k for k, pair in enumerate(pairs)}
        self.pair_left = np.array([p[0] for p in pairs], dtype=np.intp)
        self.pair_right = np.array([p[1] for p in pairs], dtype=np.intp)
        v = n_variables
        self.power = np.zeros((v, len(models)))
        self.roofline = np.zeros((v, len(models)))
        self.is_roofline = np.array([m.base.form == "roofline" for m in models])
        self.overhead = np.array([m.base.intercept if m.base.form == "roofline" else 0.0 for m in models])
        self.intercept = np.array([m.intercept for m in models])
        self.power_intercept = np.array([0.0 if m.base.form == "roofline" else m.base.intercept for m in models])
        self.log_launch = np.array(
            [np.log(m.base.launch) if m.base.form == "launch_power" else -np.inf for m in models]
        )
        self.correction = np.zeros((v + len(pairs), len(models)))
        self.low = np.full((len(models), v), -np.inf)
        self.high = np.full((len(models), v), np.inf)
        self.covered_low = np.full((len(models), v), -np.inf)  # what training covered, for novelty
        self.covered_high = np.full((len(models), v), np.inf)
        self.correction_low = np.array([m.correction_range[0] for m in models])
        self.correction_high = np.array([m.correction_range[1] for m in models])
        self.peak_log_rate = np.full((len(models), v), np.inf)  # inf: no floor from that variable
        # power-law slope above 1 and the largest z trained on, per model and variable: PhysicalBase.largest
        self.excess_slope = np.zeros((len(models), v))
        self.base_largest = np.full((len(models), v), np.inf)
        self.largest = np.full((len(models), v), np.inf)
        for k, model in enumerate(models):
            for i, coef in model.base.coef.items():
                (self.roofline if model.base.form == "roofline" else self.power)[i, k] = coef
                if coef > 1 and i in model.base.largest:  # a roofline base has no largest
                    self.excess_slope[k, i], self.base_largest[k, i] = coef - 1, model.base.largest[i]
            for i, coef in model.linear.items():
                self.correction[i, k] = coef
            for pair, coef in model.quadratic.items():
                self.correction[v + pair_index[pair], k] = coef
            for i, (low, high) in model.clip.items():
                self.low[k, i], self.high[k, i] = low, high
            for i, (low, high) in model.coverage.items():
                self.covered_low[k, i], self.covered_high[k, i] = low, high
            for i, (peak, largest) in model.rate_limit.items():
                self.peak_log_rate[k, i], self.largest[k, i] = peak, largest
        self.rate_columns = np.flatnonzero(np.any(np.isfinite(self.peak_log_rate), axis=0))
        self.roofline_columns = np.flatnonzero(np.any(self.roofline != 0, axis=1))
        self.excess_columns = np.flatnonzero(np.any(self.excess_slope > 0, axis=0))
        self.tree_blocks = [
            _TreeBlock(models, depth) for depth in sorted({m.trees.depth for m in models if m.trees is not None})
        ]

    def predict_log(self, z: np.ndarray, model_index: np.ndarray) -> np.ndarray:
        n, v = z.shape
        rows = np.arange(n)
        clipped = np.clip(z, self.low[model_index], self.high[model_index])
        terms = np.empty((n, self.correction.shape[0]))
        terms[:, :v] = clipped
        np.multiply(clipped[:, self.pair_left], clipped[:, self.pair_right], out=terms[:, v:])
        correction = (terms @ self.correction)[rows, model_index]
        for block in self.tree_blocks:
            block.add(correction, clipped, model_index)
        np.clip(correction, self.correction_low[model_index], self.correction_high[model_index], out=correction)
        power = (z @ self.power)[rows, model_index] + self.power_intercept[model_index]
        if self.excess_columns.size:
            columns = self.excess_columns
            over = np.maximum(z[:, columns] - self.base_largest[model_index][:, columns], 0.0)
            power -= (over * self.excess_slope[model_index][:, columns]).sum(axis=1)
        launched = np.isfinite(self.log_launch[model_index])
        if launched.any():
            power[launched] = np.logaddexp(self.log_launch[model_index][launched], power[launched])
        out = self.intercept[model_index] + power + correction
        if self.is_roofline.any():  # a roofline of a fixed cost alone (every coefficient 0) has no columns
            roofline = self.is_roofline[model_index]
            cost = (
                self.overhead[model_index]
                + (np.expm1(z[:, self.roofline_columns]) @ self.roofline[self.roofline_columns])[rows, model_index]
            )
            out += np.where(roofline, np.log(np.maximum(cost, TINY_COST)), 0.0)
        if self.rate_columns.size:
            zr = z[:, self.rate_columns]
            beyond = zr > self.largest[model_index][:, self.rate_columns]
            if beyond.any():
                log_work = np.log(np.expm1(zr, where=beyond, out=np.ones(zr.shape)))
                floor = np.where(beyond, log_work - self.peak_log_rate[model_index][:, self.rate_columns], -np.inf)
                np.maximum(out, floor.max(axis=1), out=out)
        return out


class _TreeBlock:
    """The trees of every model with trees of one depth, padded to one count (padding never fires)."""

    def __init__(self, models: list[LayerModel], depth: int):
        members = [k for k, m in enumerate(models) if m.trees is not None and m.trees.depth == depth]
        count = max(models[k].trees.feature.shape[0] for k in members)
        feature = np.zeros((len(members), count, depth), dtype=np.intp)
        threshold = np.full((len(members), count, depth), np.inf)
        leaf = np.zeros((len(members), count, 2**depth))
        for b, k in enumerate(members):
            trees = models[k].trees
            t = trees.feature.shape[0]
            feature[b, :t], threshold[b, :t], leaf[b, :t] = trees.feature, trees.threshold, trees.leaf
        self.feature, self.threshold, self.leaf_flat = feature, threshold, leaf.ravel()
        self.count, self.leaves = count, 2**depth
        self.weights = 1 << np.arange(depth - 1, -1, -1)
        self.row_of_model = np.full(len(models), -1, dtype=np.intp)
        self.row_of_model[members] = np.arange(len(members))
        self.tree = np.arange(count)

    def add(self, out: np.ndarray, z: np.ndarray, model_index: np.ndarray) -> None:
        block_row = self.row_of_model[model_index]
        rows = np.flatnonzero(block_row >= 0)
        if not rows.size:
            return
        member = block_row[rows]
        cells = (np.arange(rows.size) * z.shape[1])[:, None, None] + self.feature[member]
        bits = z[rows].ravel()[cells] > self.threshold[member]
        leaf = (member[:, None] * self.count + self.tree[None, :]) * self.leaves + bits @ self.weights
        out[rows] += self.leaf_flat[leaf].sum(axis=1)


class LayerModelSet:
    """One target's op models, op-group models and shared fallback, stacked for vectorised evaluation.

    An op is costed by its own model, else by its op group's, else by the fallback; an op measured too
    rarely for a model of its own shifts its group's model by its offset (log), learnt from the layers
    of that op that were measured (an average pool is not a max pool, though both are pools)."""

    def __init__(
        self,
        ops: dict[str, LayerModel],
        fallback: LayerModel | None,
        n_variables: int,
        groups: dict[str, LayerModel] | None = None,
        measured_only: dict[str, dict[int, tuple[float, float]]] | None = None,
        offsets: dict[str, float] | None = None,
    ):
        groups = groups or {}
        self.ops = ops
        # ops too rarely measured for a model of their own, with the ranges their measured layers span
        self.measured_only = measured_only or {}
        self.offsets = offsets or {}
        self.fallback = fallback
        self.models = list(ops.values()) + list(groups.values()) + ([fallback] if fallback else [])
        self.labels = list(ops) + [f"{group} group" for group in groups] + (["fallback"] if fallback else [])
        self.index = {op: i for i, op in enumerate(ops)}
        self.group_index = {group: len(ops) + i for i, group in enumerate(groups)}
        self.fallback_index = len(ops) + len(groups) if fallback else -1
        self.stacked = StackedLayerModels(self.models, n_variables)

    @classmethod
    def from_json(cls, entry: dict, variables: list[str], target: str = "layer") -> LayerModelSet:
        """From one target's entry of a predictor file's layer_models."""
        ops = {op: LayerModel.from_json(m, variables, f"the {target} model of {op}") for op, m in entry["ops"].items()}
        fallback = (
            LayerModel.from_json(entry["fallback"], variables, f"the {target} fallback model")
            if entry.get("fallback")
            else None
        )
        groups = {
            group: LayerModel.from_json(m, variables, f"the {target} model of the {group} group")
            for group, m in entry.get("groups", {}).items()
        }
        index = {name: i for i, name in enumerate(variables)}
        measured_only = {
            op: ranges_from_json(r, index, f"the {target} measured range of {op}")
            for op, r in entry.get("measured_only", {}).items()
        }
        return cls(ops, fallback, len(variables), groups, measured_only, _offsets(entry.get("offsets", {})))

    def predict_log(self, z: np.ndarray, ops: Sequence[str], index: np.ndarray | None = None) -> np.ndarray:
        """Log predictions for layers of these ops (`index`: their model_index, when already known)."""
        index = self.model_index(ops) if index is None else index
        predicted = self.stacked.predict_log(z, index)
        if self.offsets:
            predicted = predicted + np.array([self.offsets.get(op, 0.0) for op in ops])
        return predicted

    def measured_here(self, op: str, z: np.ndarray, tolerance: float) -> bool:
        """Whether `op`, which has no model of its own, was measured at sizes spanning this layer's `z`."""
        ranges = self.measured_only.get(op)
        return ranges is not None and all(
            low - tolerance <= z[i] <= high + tolerance for i, (low, high) in ranges.items()
        )

    def model_index(self, ops: Sequence[str]) -> np.ndarray:
        return np.array(
            [self.index.get(op, self.group_index.get(op_group(op), self.fallback_index)) for op in ops], dtype=np.intp
        )

    def covered_by(self, op: str) -> str:
        """What costs `op`, in words."""
        if op in self.index:
            return "its own layer model"
        if op_group(op) in self.group_index:
            shift = self.offsets.get(op)
            if shift is None:
                return f"the model of its op group ({op_group(op)})"
            return f"the model of its op group ({op_group(op)}) times {np.exp(shift):.2f}, from its measured layers"
        return "the shared fallback model" if self.fallback is not None else "no model"

    def log_bounds(self, confidence: float) -> np.ndarray:
        return np.array([log_bounds(m.residuals, confidence)[:2] for m in self.models]).reshape(-1, 2)


def _offsets(doc: object) -> dict[str, float]:
    """A layer_models entry's offsets, checked when loaded: anything but {op: number} would fail only
    at the first prediction."""
    if not isinstance(doc, dict):
        raise TypeError(f"offsets is a {type(doc).__name__}, not a number per op")
    for op, shift in doc.items():
        if isinstance(shift, bool) or not isinstance(shift, (int, float)):
            raise TypeError(f"the offset of {op} is {shown(shift)}, not a number")
    return {op: float(shift) for op, shift in doc.items()}
