"""Network models: whole-network cost from the layer predictions and the network's structure.

`additive`: target = columns . coef over per op group aggregates (layers, GMACs,
MB moved). `log_ratio`: latency = the sum of predicted layers times a bounded
correction, plus a cost per MB of outputs written to fresh memory. The fitting
side (hwprof.fitting.network) learns the coefficients; this module only holds
and evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwprof.errors import HwprofError
from hwprof.predictor.features import AGGREGATE_KINDS, FRESH_KIND, OP_GROUPS


@dataclass
class NetworkModel:
    """`additive`: target = columns . coef. `log_ratio`: latency = layer sum x exp(clip(columns) . coef)
    + ms_per_output_mb x MB of fresh outputs."""

    target: str
    columns: list[str]
    coef: np.ndarray
    lam: float
    form: str = "additive"
    low: np.ndarray | None = None  # log_ratio: training range of each column, for clipping
    high: np.ndarray | None = None
    ms_per_output_mb: float = 0.0  # log_ratio: cost of the outputs a network writes to fresh memory
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0))  # held-out log(measured/predicted)
    cv: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        doc = {
            "target": self.target,
            "form": self.form,
            "columns": self.columns,
            "coef": [float(c) for c in self.coef],
            "lambda": self.lam,
            "residuals_log": [round(float(r), 6) for r in np.sort(self.residuals)],
            "cv": self.cv,
        }
        if self.form == "log_ratio":
            doc["clip_low"] = [float(v) for v in self.low]
            doc["clip_high"] = [float(v) for v in self.high]
            doc["ms_per_output_mb"] = float(self.ms_per_output_mb)
        return doc

    @classmethod
    def from_json(cls, doc: dict) -> NetworkModel:
        form = doc.get("form", "additive")
        columns = list(doc["columns"])
        coef = _per_column(doc, "coef", columns)
        low = _per_column(doc, "clip_low", columns) if form == "log_ratio" else None
        high = _per_column(doc, "clip_high", columns) if form == "log_ratio" else None
        return cls(
            doc["target"],
            columns,
            coef,
            float(doc["lambda"]),
            form,
            low,
            high,
            float(doc.get("ms_per_output_mb", 0.0)),
            np.array(doc.get("residuals_log", []), dtype=float),
            doc.get("cv", {}),
        )


def _per_column(doc: dict, key: str, columns: list[str]) -> np.ndarray:
    """One number per column: fewer would be silently dropped by one network's arithmetic and fail a batch's."""
    values = np.array(doc[key], dtype=float)
    if values.shape != (len(columns),):
        raise ValueError(f"the {doc.get('target')} model has {values.size} {key} values for its {len(columns)} columns")
    return values


RATIO_COLUMNS = ["intercept", "log_layers_per_ms", "log_layer_sum_ms"]


def ratio_features(layer_total: np.ndarray, layer_count: np.ndarray) -> np.ndarray:
    """[1, log(layers per ms of layer sum), log(layer sum ms)] per network."""
    total = np.maximum(layer_total, 1e-9)
    phi = np.empty((len(total), 3))
    phi[:, 0] = 1.0
    np.log(np.maximum(layer_count, 1.0) / total, out=phi[:, 1])
    np.log(total, out=phi[:, 2])
    return phi


class CompiledNetworkModel:
    """A network model's named coefficients as blocks matching the feature arrays."""

    def __init__(self, model: NetworkModel):
        self.model = model
        self.form = model.form
        g = {group: i for i, group in enumerate(OP_GROUPS)}
        kinds = {kind: k for k, kind in enumerate(AGGREGATE_KINDS)}
        self.aggregates = np.zeros(len(OP_GROUPS) * len(AGGREGATE_KINDS))
        self.shares = np.zeros(len(OP_GROUPS))
        self.intercept = 0.0
        self.latency = 0.0
        if self.form == "log_ratio":
            if list(model.columns) != RATIO_COLUMNS:
                raise HwprofError(
                    f"the predictor's {model.target} model has columns this hwprof does not know; "
                    f"it was written by another hwprof version: refit it"
                )
            self.ratio_coef, self.ratio_low, self.ratio_high = model.coef, model.low, model.high
            self._ratio_terms = list(zip(model.coef.tolist(), model.low.tolist(), model.high.tolist()))
            self.ms_per_output_mb = model.ms_per_output_mb
            return
        if self.form != "additive":
            raise HwprofError(
                f"the predictor's {model.target} model has form {self.form!r}, unknown to this hwprof; refit it"
            )
        for column, coef in zip(model.columns, model.coef):
            kind, _, group = column.partition(":")
            if column == "intercept":
                self.intercept = coef
            elif column == "latency_ms":
                self.latency = coef
            elif kind == "share" and group in g:
                self.shares[g[group]] = coef
            elif kind in kinds and group in g:
                self.aggregates[g[group] * len(AGGREGATE_KINDS) + kinds[kind]] = coef
            else:
                raise HwprofError(
                    f"the predictor's {model.target} model uses an unknown column {column!r}; "
                    f"it was written by another hwprof version: refit it"
                )
        self._aggregate_coef, self._share_coef = self.aggregates.tolist(), self.shares.tolist()

    def latency_parts(
        self, layer_sums: np.ndarray | None, aggregates: np.ndarray, layer_total: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(total, per op group part of it) for a latency model; `layer_total` is
        layer_sums.sum(axis=1) where the caller has it already."""
        n = len(aggregates)
        if self.form == "log_ratio":
            if layer_total is None:
                layer_total = layer_sums.sum(axis=1)
            per_group = aggregates.reshape(n, len(OP_GROUPS), len(AGGREGATE_KINDS))
            phi = ratio_features(layer_total, per_group[:, :, 0].sum(axis=1))
            np.minimum(np.maximum(phi, self.ratio_low, out=phi), self.ratio_high, out=phi)  # np.clip, less overhead
            factor = np.exp(phi @ self.ratio_coef)
            parts = layer_sums * factor[:, None] + self.ms_per_output_mb * per_group[:, :, FRESH_KIND]
            return parts.sum(axis=1), parts
        parts = (aggregates * self.aggregates).reshape(n, len(OP_GROUPS), len(AGGREGATE_KINDS)).sum(axis=2)
        return parts.sum(axis=1) + self.intercept, parts

    def latency_parts_one(
        self, layer_sums: list[float] | None, aggregates: list[float], layer_total: float | None
    ) -> tuple[float, list[float]]:
        """latency_parts for one network, in Python floats: the same arithmetic without numpy's
        per-call overhead, which is nearly all of the cost for a single network."""
        if self.form == "log_ratio":
            total = max(layer_total, 1e-9)
            layers = max(sum(aggregates[:: len(AGGREGATE_KINDS)]), 1.0)  # the count of each group
            phi = [1.0, float(np.log(layers / total)), float(np.log(total))]
            exponent = sum([c * min(max(v, low), high) for v, (c, low, high) in zip(phi, self._ratio_terms)])
            factor = float(np.exp(exponent))  # overflows to inf as in arrays, never raises
            fresh = aggregates[FRESH_KIND :: len(AGGREGATE_KINDS)]
            parts = [s * factor + self.ms_per_output_mb * mb for s, mb in zip(layer_sums, fresh)]
            return sum(parts), parts
        k = len(AGGREGATE_KINDS)
        terms = [a * c for a, c in zip(aggregates, self._aggregate_coef)]
        parts = [sum(terms[g * k : (g + 1) * k]) for g in range(len(OP_GROUPS))]
        return sum(parts) + self.intercept, parts
