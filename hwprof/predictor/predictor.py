"""A fitted cost model: load it from JSON, predict one network or a million.

The predictor file is plain JSON (coefficients and flattened trees as arrays),
so loading it never runs code. Prediction has two halves, timed separately:
features (trace the network, encode its unique layer configurations, which
costs a forward pass) and evaluation from features (a few vectorised numpy
operations, microseconds per network).

A layer's predictions depend on nothing but its configuration, so the layer
models run once per distinct (op, config), when features are built: the
result is cached beside the encoded row, and evaluation from features only
combines cached per-layer predictions with the network models (for a single
network on Python floats, where numpy's per-call overhead would dominate).
"""

from __future__ import annotations

import csv
import difflib
import errno
import hashlib
import json
import math
import numbers
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwprof.errors import HwprofError, option, shown, true_or_false, whole_number
from hwprof.files import as_path, check_output, first_bytes
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.predictor import file as predictor_file
from hwprof.predictor.domain import Domain
from hwprof.predictor.features import (
    AGGREGATE_KINDS,
    CHANNELS_LAST,
    CONFIG_PREFIX,
    HALF_DTYPES,
    OP_GROUPS,
    LayerRecord,
    NetworkBatch,
    encode_layers,
    held_indicators,
    indicator_names,
    is_setting,
    op_group,
    record_aggregates,
    recorded_only_where_set,
    setting_key,
    setting_name,
)
from hwprof.predictor.intervals import holding_prediction, log_bounds, widest_bounds
from hwprof.predictor.layer_model import LayerModelSet
from hwprof.predictor.network_model import CompiledNetworkModel, NetworkModel
from hwprof.predictor.records import (
    HOW_KEYWORDS,
    TRACING,
    TracedNetwork,
    clear_cache,
    names_told_apart,
    network_layers,
    positive_batch_size,
)
from hwprof.schema import ALLOCATOR_POLICIES, DEFAULT_CACHE_MODE

NETWORK_TARGETS = ("latency_ms", "power_w", "energy_mj")
# encoded layer configurations kept per predictor (a few KB each), and parsed configurations' indicators
ENCODING_CACHE_SIZE = 50_000
DENSE_MEMBERSHIP_LIMIT = 1 << 20  # below this many cells a dense matrix multiplies faster than sparse
TINY = 1e-6
SCALE_LEAVE_ONE_OUT = "leave-one-out scale"  # a scaled prior's cross-validation: one network against the others
IN_MEMORY = "<memory>"  # the source of a predictor read from no file and written to none
DATASET_SUFFIXES = (".parquet", ".csv")  # the names dataset readers read a file by
PARQUET_MAGIC = b"PAR1"
DATASET_HEADER_BYTES = 4096  # enough for a CSV dataset's header line


@dataclass(eq=False)  # its layers are a DataFrame, whose == is elementwise: two predictions are equal if the same
class Prediction:
    model: str
    batch_size: int
    confidence: float
    total: dict[str, float]  # latency_ms, power_w, energy_mj as fitted (+ *_layer_sum in layer mode)
    interval: dict[str, tuple[float, float]]  # calibrated (low, high) at `confidence`, low <= total <= high
    layers: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    traced_on: str = "meta"  # "real" where the network could not be traced on meta tensors
    # share of predicted time from uncovered op types or sizes, distance to the training networks, and
    # whether that puts the network outside what held-out families validated (see Predictor.novelty)
    novelty: dict[str, float | bool | str] = field(default_factory=dict)
    # what the figures are for: the board, thread count, dtype, layout and cache mode the predictor was
    # trained at (Predictor.conditions)
    conditions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain values for json.dumps, as predict --json prints them: the layers as a list of records, and
        an interval that does not exist ((0, inf): no held-out error to calibrate it, or a dtype or layout
        the predictor has no data in) as None, and a novelty text with nothing to name ("") as None."""
        return {
            "model": self.model,
            "batch_size": self.batch_size,
            "confidence": self.confidence,
            "total": dict(self.total),
            "interval": {t: list(v) if self.has_interval(t) else None for t, v in self.interval.items()},
            "warnings": list(self.warnings),
            "traced_on": self.traced_on,
            "novelty": {key: None if value == "" else value for key, value in self.novelty.items()},  # "": none
            "conditions": {key: list(v) if isinstance(v, list) else v for key, v in self.conditions.items()},
            "layers": json.loads(self.layers.to_json(orient="records")),
        }

    def has_interval(self, target: str) -> bool:
        """Whether `target` has a calibrated interval: a finite upper bound."""
        high = self.interval.get(target, (None, None))[1]
        return high is not None and math.isfinite(high)


@dataclass
class NetworkFeatures:
    """Everything evaluation needs, computed once per batch of networks."""

    batch: NetworkBatch
    z: np.ndarray  # (n_unique_layers, n_variables); empty without layer models
    model_index: dict[str, np.ndarray]  # layer target -> op model per unique layer
    layer_log: dict[str, np.ndarray]  # layer target -> log prediction per unique layer (cached per config)
    group_onehot: np.ndarray  # (n_unique_layers, n_groups)
    # (n_unique_layers, n_groups [+ 1]) in layer mode: each unique layer's predicted latency (ms) in its op
    # group's column, then its predicted energy (mJ, latency x power) where power is modelled; a network's
    # layer sums are membership @ layer_columns. Empty without layer models.
    layer_columns: np.ndarray
    own_model: np.ndarray  # (n_unique_layers,) True where the op has a model of its own
    membership: Any  # batch.membership, dense when small
    traced_on: list[str] = field(default_factory=list)  # per network, "meta" or "real"; empty when not traced
    # the fingerprint of the predictor that made them: their layer predictions and model indices are its own
    made_by: str = ""
    # Predictor.novelty of them, kept at its first call: a search loop predicts the same features again and again
    novelty: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.batch)


def check_predictor_output(path: object, inputs: Iterable[str | os.PathLike] = (), force: object = False) -> Path:
    """Where a predictor may be written, checked before any work (files.check_output): never over a file holding
    a dataset, whatever its name and even with `force`, which replaces an older predictor whatever its name, not a
    measurement; and never to a new path named as a dataset (.parquet, .csv), which readers would take for one."""
    path = as_path(path, "output")
    force = true_or_false("force", force)
    inputs = list(inputs)
    check_output(path, inputs=inputs, force=True)  # what no output may be first: an input, its companion, a folder
    try:
        exists = path.is_file()
        is_dataset = exists and _holds_dataset(path)
    except OSError as error:  # "File name too long": no dataset, and check_output says why
        if error.errno != errno.ENAMETOOLONG:
            raise
        exists = is_dataset = False
    if is_dataset:
        raise HwprofError(
            f"{path} is a dataset, which a predictor (JSON) never replaces, not even with --force; write the "
            "predictor to another .json path"
        )
    if not exists and path.suffix.lower() in DATASET_SUFFIXES:
        raise HwprofError(
            f"{path} is named as a dataset ({path.suffix}), and a predictor is JSON; write the predictor to a .json path"
        )
    return check_output(path, inputs=inputs, force=force)


def _holds_dataset(path: Path) -> bool:
    """Whether a file holds a dataset, told by its content as the readers tell it, not by its name: Parquet's
    magic bytes, or a CSV header naming the model and latency_ms columns every dataset has."""
    try:
        start = first_bytes(path, DATASET_HEADER_BYTES)
    except OSError as error:  # unreadable: check_output, or the write, says why
        if error.errno == errno.ENAMETOOLONG:
            raise
        return False
    if start.startswith(PARQUET_MAGIC):
        return True
    header = start.decode("utf-8-sig", errors="replace").splitlines()[:1]
    return {"model", "latency_ms"} <= {column.strip() for column in next(csv.reader(header), [])}


class Predictor:
    """A fitted cost model of one device: predicts latency (and power and energy where fitted) of networks,
    with calibrated intervals and how far each lies from the training data.

    Load one with hwprof.load_predictor(path) (or make one from a predictor document); `predict` gives one
    network with its layers, `predict_many` a table of many, and `features` then `predict_features` split
    the slow tracing from the fast evaluation, for design loops that evaluate networks repeatedly."""

    def __init__(self, doc: dict, source: str = IN_MEMORY):
        _check_document(doc)
        self.doc = doc
        self.source = source
        try:
            self._read_models(doc)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            damaged = (
                "the predictor document given is damaged"
                if source == IN_MEMORY
                else (f"{source} is a damaged predictor file")
            )
            raise HwprofError(f"{damaged} ({type(error).__name__}: {error}); refit it") from None
        self._targets = tuple(t for t in NETWORK_TARGETS if t in self.network_models)
        # (op, config) -> (encoded row z, log prediction per layer target): see _encode
        self._encoded: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        # (target, confidence) -> interval multipliers; (target, None) -> the widest, outside the training data
        self._factors: dict[tuple[str, float | None], tuple[float, float]] = {}

    def _read_models(self, doc: dict) -> None:
        """The document's features, layer and network models and domain, each checked as it is read."""
        features = doc["features"]
        self.variables: list[str] = list(features["layer_variables"])
        # whether its layers' text and flag settings were indicators when it was fitted (files written before
        # they were have none, and a setting they never had tells nothing of their training)
        self.indicates_settings = predictor_file.SETTINGS_DEFINITION in features
        # indicators defined after it was fitted: its layers could not hold them, and a layer holding one is read
        # as it was then, neither told apart nor new
        self._undefined_indicators = frozenset(
            indicator for definition, indicator in predictor_file.LATER_INDICATORS.items() if definition not in features
        )
        self.groups_seen: set[str] = set(features.get("groups_seen", []))
        self.layer_sets: dict[str, LayerModelSet] = {}
        for target, entry in doc.get("layer_models", {}).items():
            self.layer_sets[target] = LayerModelSet.from_json(entry, self.variables, target)
        self.network_models: dict[str, CompiledNetworkModel] = {
            target: CompiledNetworkModel(NetworkModel.from_json(m)) for target, m in doc["network_models"].items()
        }
        _check_records(doc)
        # where the training networks lie; absent from files written before it existed
        self.domain = Domain.from_json(doc["domain"]) if "domain" in doc else None
        self.layer_scale = _layer_scale(doc)
        self.base_widest = _base_widest(doc)

    @cached_property
    def _fingerprint(self) -> str:
        """A digest of what predictions depend on: features made by a predictor of another fingerprint hold
        another predictor's layer predictions."""
        parts = {part: self.doc.get(part) for part in ("features", "layer_models", "network_models", "domain")}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    # --- file ---

    @property
    def targets(self) -> list[str]:
        """The network targets this predictor was fitted to: latency_ms, then power_w and energy_mj where measured."""
        return list(self._targets)

    @property
    def uses_layers(self) -> bool:
        """Whether it predicts each layer with layer models (layer mode) rather than from per op group
        aggregates alone (analytic mode)."""
        return "latency_ms" in self.layer_sets

    @property
    def conditions(self) -> dict:
        """What its figures are for, as its training runs recorded it: `device_name`, and the sorted values of
        the runs' `device`, `threads`, `dtypes`, `layouts` ("contiguous" or "channels_last") and `cache` (the
        mode layers were timed in); a list is empty where no run recorded it (a table of network rows)."""
        runs = self._training_runs()

        def recorded(key: str, kind: type) -> list:  # of that kind alone: a count is no bool
            return sorted({run[key] for run in runs if type(run.get(key)) is kind})

        return {
            "device_name": self.doc.get("device_name"),
            "device": recorded("device", str),
            "threads": recorded("threads", int),
            "dtypes": recorded("dtype", str),
            "layouts": [CHANNELS_LAST if value else "contiguous" for value in recorded("channels_last", bool)],
            "cache": recorded("cache", str),
        }

    def _training_runs(self) -> list[dict]:
        """The training runs' summaries its provenance keeps (hwprof.fitting.data), none where it keeps none."""
        training = self.doc.get("training")
        return [
            run
            for source in _listed(training.get("sources") if isinstance(training, dict) else None)
            if isinstance(source, dict)
            for run in _listed(source.get("runs"))
            if isinstance(run, dict)
        ]

    def _run_setting_flags(self) -> list[str]:
        """The --cache and --allocator options its training runs were all measured with where they are not
        measure's defaults: an advised measure command then collects data that fit takes beside theirs, not data
        it warns were measured otherwise."""
        runs = self._training_runs()
        caches = {run["cache"] for run in measure_runs(runs) if isinstance(run.get("cache"), str)}
        policies = {allocator_policy(run.get("allocator")) for run in runs} - {None}
        flags = [f"--cache {cache}" for cache in caches if len(caches) == 1 and cache != DEFAULT_CACHE_MODE]
        return flags + [
            f"--allocator {policy}" for policy in policies if len(policies) == 1 and policy != ALLOCATOR_POLICIES[0]
        ]

    def check_threads(self, threads: Any) -> str:
        """Whether figures can be given at `threads`: they are for the thread count its training runs were measured
        at, and a latency at one count is no figure of another (a network at 4 threads may run up to 4x faster than
        at 1), so any other count is refused, as search refuses to verify at one. Where no run recorded a count,
        a note that `threads` is not checked; "" where it holds or none is asked for."""
        if threads is None:
            return ""
        if getattr(threads, "ndim", None) == 0:
            threads = threads.item()  # a numpy scalar or 0-d array
        if not whole_number(threads) or threads < 1:
            raise HwprofError(f"{option('threads', shown(threads))}: give a positive whole number of threads")
        conditions = self.conditions
        trained = conditions["threads"]
        if not trained:
            return (
                f"its training data recorded no thread count, so whether its figures are for {threads} "
                f"thread{'s' * (threads != 1)} is not checked"
            )
        if threads in trained:
            return ""
        counts = "/".join(map(str, trained))
        device = "".join(f" --device {device}" for device in conditions["device"][:1] if device != "cpu")
        device += "".join(f" {flag}" for flag in self._run_setting_flags())
        name = "the predictor" if self.source == IN_MEMORY else self.source
        raise HwprofError(
            f"{name} was fitted on runs at {counts} thread{'s' * (trained != [1])}, so its figures are for that "
            f"count, not for {option('threads', threads)}; measure networks at {threads} thread{'s' * (threads != 1)} "
            f"with `hwprof measure MODELS{device} --threads {threads}` and fit a predictor of them, or leave "
            f"{option('threads')} out"
        )

    def _trained_settings(self) -> frozenset[str]:
        """The dtypes, and CHANNELS_LAST, that the predictor has data in. A dtype is trained where a training run
        recorded it or a training layer was in it (float32 too where no run recorded a dtype). Channels-last is
        trained where a run was measured with it, or where no run recorded a layout and a training layer was:
        a run in the contiguous layout has channels-last layers of its own (ConvNeXt permutes to NHWC)."""
        conditions = self.conditions
        indicated = {setting_name(variable) for variable in self.variables} - {None}
        dtypes = {*conditions["dtypes"], *(indicated - {CHANNELS_LAST})} | (
            {"float32"} if not conditions["dtypes"] else set()
        )
        layouts = conditions["layouts"] or (indicated & {CHANNELS_LAST})
        return frozenset(dtypes | ({CHANNELS_LAST} & set(layouts)))

    def save(self, path: str | os.PathLike, force: bool = False) -> None:
        """Write the predictor file. An older predictor is replaced only with `force`, as `fit(out=...)` replaces
        one; a file holding a dataset (a measurement) never is, even with `force` (see check_predictor_output)."""
        predictor_file.dump(self.doc, check_predictor_output(path, force=force), force)
        self.source = str(path)  # later messages name the file it now is

    def __repr__(self) -> str:
        mode = "layer models" if self.uses_layers else "network rows only"
        device = self.doc.get("device_name", "unknown device")
        return f"<Predictor {self.source}: {', '.join(self.targets)} of {device}, {mode}>"

    # --- features ---

    def features(
        self,
        models: Any,
        batch_size: int | Sequence[int] = 1,
        input_shape: tuple[int, ...] | None = None,
        **how: Any,
    ) -> NetworkFeatures:
        """Trace each model (cached) and encode its layers: the slow half of prediction. `models` is a list of
        what `predict` takes (one alone is a list of one); `how` is records.network_layers' seq_len, dtype,
        channels_last, inputs and hf_config."""
        _check_keywords(how, "features", ("batch_size", "input_shape"))
        with TRACING:  # telling one model from a list looks into modules another thread may still be importing
            models = _model_list(models)
            sizes = _batch_sizes(batch_size, len(models))
            traced = self._traced(models, sizes, input_shape, how)
        features = self.features_from_layers(names_told_apart(traced), sizes, [t.records for t in traced])
        features.traced_on = [t.traced_on for t in traced]
        return features

    def _traced(
        self, models: list, sizes: list[int], input_shape: tuple[int, ...] | None, how: dict
    ) -> list[TracedNetwork]:
        """Each model's layers. A sequence length or hf_config that none of the models takes is refused, as
        measure refuses them (the models of a list that take one get it, the others run without)."""
        with TRACING:  # one trace at a time: see records.TRACING
            from hwprof.models.spec import check_hf_config_applies

            if models and isinstance(how.get("hf_config"), dict):  # network_layers refuses anything but a dict
                check_hf_config_applies([_model_label(model) for model in models], how["hf_config"])
            traced = [network_layers(model, size, input_shape, **how) for model, size in zip(models, sizes)]
        seq_len = how.get("seq_len")
        if seq_len is not None and traced and not any(t.has_seq for t in traced):
            names = ", ".join(t.name for t in traced)
            none = f"{names} has none" if len(traced) == 1 else f"none of {names} has one"
            raise HwprofError(
                f"{option('seq_len', seq_len)} sets the length of a sequence dimension (hf: text models, or an "
                f"input such as input_ids:int64[seq]), and {none}; drop it"
            )
        return traced

    def features_from_layers(
        self, names: Sequence[str], batch_sizes: Sequence[int], layer_lists: Sequence[Sequence[LayerRecord]]
    ) -> NetworkFeatures:
        """features() from layers already traced (one list of records per network), as fitting and tests
        build them, without tracing a model."""
        batch = NetworkBatch.from_layer_lists(names, batch_sizes, layer_lists)
        return self.features_from_batch(batch)

    def features_from_batch(self, batch: NetworkBatch) -> NetworkFeatures:
        """features() of a NetworkBatch (unique layers and which networks hold them): each unique layer is
        encoded and predicted once, however many networks share it."""
        ops = [record.op for record in batch.layers]
        group_position = {group: i for i, group in enumerate(OP_GROUPS)}
        onehot = np.zeros((len(ops), len(OP_GROUPS)))
        onehot[np.arange(len(ops)), [group_position[op_group(op)] for op in ops]] = 1.0
        model_index, layer_log, own = {}, {}, np.ones(len(ops), dtype=bool)
        z = np.zeros((len(ops), len(self.variables)))
        if self.layer_sets:
            for target, models in self.layer_sets.items():
                model_index[target] = models.model_index(ops)
            own = model_index["latency_ms"] < len(self.layer_sets["latency_ms"].ops)
            missing = model_index["latency_ms"] < 0
            if missing.any():
                op = ops[int(np.flatnonzero(missing)[0])]
                raise HwprofError(
                    f"op type {op!r} has no layer model in {self.source} and the predictor has no shared "
                    f"fallback model; refit with layer rows that include {op!r}"
                )
            z, logs = self._encode(batch.layers, model_index)
            layer_log = {target: logs[:, t] for t, target in enumerate(self.layer_sets)}
            latency = np.exp(layer_log["latency_ms"])
            columns = [onehot * latency[:, None]]
            if "power_w" in layer_log:
                columns.append((latency * np.exp(layer_log["power_w"]))[:, None])
            layer_columns = np.hstack(columns)
        else:
            layer_columns = np.zeros((len(ops), 0))
        membership = batch.membership
        if membership.shape[0] * membership.shape[1] <= DENSE_MEMBERSHIP_LIMIT:
            membership = membership.toarray()
        return NetworkFeatures(
            batch=batch,
            z=z,
            model_index=model_index,
            layer_log=layer_log,
            group_onehot=onehot,
            layer_columns=layer_columns,
            own_model=own,
            membership=membership,
            made_by=self._fingerprint,
        )

    def clear_encoding_cache(self) -> None:
        """Forget encoded layer configurations and their layer predictions (to time encoding from scratch).
        Traced networks stay cached: clear_caches forgets those too."""
        self._encoded.clear()
        _indicator_variables.cache_clear()

    def clear_caches(self) -> None:
        """Forget everything cached to predict faster, to free its memory: this predictor's encoded layers, and
        the traced networks every predictor of the process shares. Each cache is bounded (about 100 MB of
        traced networks, and ENCODING_CACHE_SIZE layers per predictor); a long-running service may still
        want them back."""
        self.clear_encoding_cache()
        clear_cache()

    def _encode(
        self, records: Sequence[LayerRecord], model_index: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(z, log layer predictions with one column per layer target) for these unique layers.

        Each (op, config) is encoded and run through the layer models once; the
        cache keeps both, so a configuration seen before costs a lookup. New
        configurations are evaluated together, in one vectorised pass per target."""
        keys = [(r.op, r.config) for r in records]
        entries = [self._encoded.get(key) for key in keys]
        new = [u for u, entry in enumerate(entries) if entry is None]
        if new:
            z_new = encode_layers([records[u] for u in new], self.variables)
            ops_new = [records[u].op for u in new]
            logs_new = np.column_stack(
                [
                    models.predict_log(z_new, ops_new, model_index[target][new])
                    for target, models in self.layer_sets.items()
                ]
            )
            if len(self._encoded) + len(new) > ENCODING_CACHE_SIZE:
                self._encoded.clear()
            for k, u in enumerate(new):
                entries[u] = self._encoded[keys[u]] = (z_new[k], logs_new[k])
        if not keys:
            return np.zeros((0, len(self.variables))), np.zeros((0, len(self.layer_sets)))
        return np.array([entry[0] for entry in entries]), np.array([entry[1] for entry in entries])

    # --- evaluation from features: the fast half ---

    def predict_features(
        self, features: NetworkFeatures, confidence: float = INTERVAL_CONFIDENCE, intervals: bool = True
    ) -> dict[str, np.ndarray]:
        """Per-network arrays: each fitted target, its *_low/*_high bounds (which always hold it: an interval
        is widened to its prediction), and layer sums in layer mode. With intervals, `outside` says which
        networks lie outside the training data (see novelty), whose intervals are widened as predict and
        predict_many widen them: the same network gets the same interval on every path. A network in a dtype or
        layout the predictor has no data in (novelty's `untrained_setting`) gets none: (0, inf)."""
        self._check_features(features, "predict_features")
        intervals = true_or_false("intervals", intervals)  # 'no' is not false
        novelty = self.novelty(features) if intervals else None
        arrays = self._predict_arrays(features, confidence, intervals, novelty)
        if novelty is not None:
            arrays["outside"] = novelty["outside"]
        return arrays

    def _predict_arrays(
        self, features: NetworkFeatures, confidence: float, intervals: bool, novelty: dict | None = None
    ) -> dict[str, np.ndarray]:
        """predict_features' arrays; intervals widened where `novelty` says a network is outside, and unbounded
        where it runs in an untrained setting; neither without it. `features` are this predictor's:
        predict_features checked them, predict made them."""
        confidence = check_confidence(confidence)
        if len(features) == 1 and isinstance(features.membership, np.ndarray):
            return self._predict_one(features, confidence, intervals, novelty)
        out: dict[str, np.ndarray] = {}
        layer_sums = layer_total = None
        if self.layer_sets:  # per-layer predictions were made with the features; here they are only summed
            sums = features.membership @ features.layer_columns
            layer_sums = sums[:, : len(OP_GROUPS)]
            layer_total = layer_sums.sum(axis=1)  # the network model reads the layer models' own sum
            out["latency_ms_layer_sum"] = layer_total * self.layer_scale
            if "power_w" in self.layer_sets:
                energy = sums[:, len(OP_GROUPS)]
                out["energy_mj_layer_sum"] = energy * self.layer_scale
                out["power_w_layer_sum"] = energy / layer_total
        aggregates = features.batch.aggregates
        total, parts = self.network_models["latency_ms"].latency_parts(layer_sums, aggregates, layer_total)
        out["latency_ms"] = np.maximum(total, TINY)
        if "power_w" in self.network_models:
            power_model = self.network_models["power_w"]
            positive = np.maximum(parts, 0.0)
            shares = positive / np.maximum(positive.sum(axis=1, keepdims=True), TINY)
            out["power_w"] = np.maximum(power_model.intercept + shares @ power_model.shares, TINY)
        if "energy_mj" in self.network_models:
            energy_model = self.network_models["energy_mj"]
            out["energy_mj"] = np.maximum(
                energy_model.latency * out["latency_ms"]
                + aggregates @ energy_model.aggregates
                + energy_model.intercept,
                TINY,
            )
        if intervals:
            self._add_intervals(out, confidence)
            if novelty is not None:
                self._widen_outside(out, novelty["outside"])
                self._unbound_untrained(out, novelty["untrained_setting"] != "")
        return out

    def _check_features(self, features: Any, method: str) -> None:
        if not isinstance(features, NetworkFeatures):
            raise HwprofError(
                f"{method} takes what features(models) returns, not a {type(features).__name__}: pass "
                "the result of predictor.features([...]), made once for the networks, to each call"
            )
        if features.made_by != self._fingerprint:
            raise HwprofError(
                f"these features were made by another predictor, whose layer predictions they hold: build them "
                f"with this predictor's features(...) ({self.source}) to pass them to its {method}"
            )

    def _predict_one(
        self, features: NetworkFeatures, confidence: float, intervals: bool, novelty: dict | None
    ) -> dict[str, np.ndarray]:
        """predict_features for a single network: the same model arithmetic on Python floats (numpy
        for a log, exp or division that must give inf/nan as arrays do), then one-element arrays."""
        values: dict[str, float] = {}
        layer_sums = layer_total = None
        if self.layer_sets:
            sums = (features.membership @ features.layer_columns)[0].tolist()
            layer_sums = sums[: len(OP_GROUPS)]
            layer_total = sum(layer_sums)
            values["latency_ms_layer_sum"] = layer_total * self.layer_scale
            if "power_w" in self.layer_sets:
                energy = sums[len(OP_GROUPS)]
                values["energy_mj_layer_sum"] = energy * self.layer_scale
                values["power_w_layer_sum"] = float(np.float64(energy) / layer_total)  # inf/nan as in arrays
        aggregates = features.batch.aggregates[0].tolist()
        total, parts = self.network_models["latency_ms"].latency_parts_one(layer_sums, aggregates, layer_total)
        latency = values["latency_ms"] = max(total, TINY)
        if "power_w" in self.network_models:
            power_model = self.network_models["power_w"]
            positive = [max(p, 0.0) for p in parts]
            scale = max(sum(positive), TINY)
            values["power_w"] = max(
                power_model.intercept + sum(p / scale * c for p, c in zip(positive, power_model._share_coef)), TINY
            )
        if "energy_mj" in self.network_models:
            energy_model = self.network_models["energy_mj"]
            values["energy_mj"] = max(
                energy_model.latency * latency
                + sum(a * c for a, c in zip(aggregates, energy_model._aggregate_coef))
                + energy_model.intercept,
                TINY,
            )
        if intervals:
            self._add_intervals(values, confidence)
            if novelty is not None and novelty["outside"][0]:  # _widen_outside's arithmetic
                for target in self._targets:
                    low, high = self._widest_factors(target)
                    values[f"{target}_low"] = min(values[f"{target}_low"], values[target] * low)
                    values[f"{target}_high"] = max(values[f"{target}_high"], values[target] * high)
            if novelty is not None and novelty["untrained_setting"][0]:  # _unbound_untrained's
                for target in self._targets:
                    values[f"{target}_low"], values[f"{target}_high"] = 0.0, math.inf
        return {key: np.array([value], dtype=float) for key, value in values.items()}

    def _add_intervals(self, values: dict, confidence: float) -> None:
        """Each target's *_low/*_high bounds, beside it in `values` (arrays or floats alike)."""
        for target in self._targets:
            low, high = self._interval_factors(target, confidence)
            values[f"{target}_low"] = values[target] * low
            values[f"{target}_high"] = values[target] * high

    def _interval_factors(self, target: str, confidence: float) -> tuple[float, float]:
        """Multipliers from the held-out residuals, computed once per target and confidence, widened to hold
        the prediction itself: held-out errors leaning one way put a narrow interval to one side of it."""
        key = (target, confidence)
        if key not in self._factors:
            low, high = holding_prediction(*log_bounds(self.network_models[target].model.residuals, confidence)[:2])
            self._factors[key] = (math.exp(low), math.exp(high))
        return self._factors[key]

    # --- one network, with its layers ---

    def predict(
        self,
        model: Any,
        batch_size: int = 1,
        input_shape: tuple[int, ...] | None = None,
        confidence: float = INTERVAL_CONFIDENCE,
        strict: bool = False,
        *,
        threads: int | None = None,
        **how: Any,
    ) -> Prediction:
        """Latency (and power/energy where fitted) of one network, per layer and in total, with intervals.
        An interval always holds its prediction (low <= total <= high): where held-out errors lean one way,
        the calibrated interval is widened to reach it.

        `model` is a name, a spec string (torchvision:, timm:, hf:, ...), a ModelSpec or an nn.Module (with
        `inputs=` example tensors or `input_shape`); `how` may set seq_len, dtype ("bfloat16"),
        channels_last, inputs and hf_config, as `measure` does. `threads` asks for figures at that thread count:
        a predictor fitted at another is refused (see check_threads).

        Thread-safe: threads may call predict, predict_many and features on one predictor (or several)
        at once, and measure in another thread. Tracing takes one process-wide lock (hwprof.models.FX_TRACING),
        since torch.fx patches nn.Module for the whole process while it traces; the rest runs concurrently.
        Tracing with torch.fx yourself in another thread meanwhile is not covered."""
        _check_keywords(how, "predict", ("batch_size", "input_shape", "confidence", "strict", "threads"))
        confidence = check_confidence(confidence)
        strict = true_or_false("strict", strict)  # 'false' is not true
        batch_size = positive_batch_size(batch_size)
        threads_note = self.check_threads(threads)
        traced = self._traced([model], [batch_size], input_shape, how)[0]
        name, layer_names, records = traced.name, traced.layer_names, traced.records
        features = self.features_from_layers([name], [batch_size], [records])
        warnings = self._coverage_warnings(name, features, strict) + ([traced.note] if traced.note else [])
        warnings += [threads_note] if threads_note else []
        arrays = self._predict_arrays(features, confidence, intervals=True)
        self._check_finite(arrays, [name])
        novelty = self.novelty(features)
        before = (arrays["latency_ms_low"][0], arrays["latency_ms_high"][0])
        self._widen_outside(arrays, novelty["outside"])
        untrained = str(novelty["untrained_setting"][0])
        if novelty["outside"][0]:
            widened = (arrays["latency_ms_low"][0], arrays["latency_ms_high"][0]) != before
            warnings.append(self._outside_note(novelty, 0, widened, bounded=not untrained))
        if untrained:
            self._unbound_untrained(arrays, novelty["untrained_setting"] != "")
            warnings.append(self.untrained_note(untrained, self._partial_dtypes(features, 0, untrained)))
        unseen = self._unseen_settings(features)
        if unseen:
            warnings.append(
                f"its layers hold settings no training layer of the same op had ({unseen}), which the predictor "
                "cannot tell from those it was trained on, so their figures may be far off (GELU's tanh "
                "approximation ran 7x its exact form); measure networks with these settings and fit with that "
                "data beside the predictor's datasets"
            )
        total = {key: float(values[0]) for key, values in arrays.items() if not key.endswith(("_low", "_high"))}
        interval = {t: (float(arrays[f"{t}_low"][0]), float(arrays[f"{t}_high"][0])) for t in self.targets}
        layers = self._layer_table(layer_names, records, features, confidence)
        novel = {key: values[0].item() for key, values in novelty.items()}
        return Prediction(
            name, batch_size, confidence, total, interval, layers, warnings, traced.traced_on, novel, self.conditions
        )

    def _check_finite(self, arrays: dict[str, np.ndarray], names: Sequence[str]) -> None:
        """A prediction is a finite positive number: anything else means a damaged or overflowing file."""
        for target in self._targets:
            bad = ~np.isfinite(arrays[target])
            if bad.any():
                name = names[int(np.flatnonzero(bad)[0])]
                raise HwprofError(
                    f"{self.source} predicts a {target} of {arrays[target][bad][0]} for {name}: its coefficients are "
                    "damaged or overflow on this network; refit the predictor"
                )

    def predict_many(
        self,
        models: Any,
        batch_size: int | Sequence[int] = 1,
        input_shape: tuple[int, ...] | None = None,
        confidence: float = INTERVAL_CONFIDENCE,
        strict: bool = False,
        *,
        threads: int | None = None,
        **how: Any,
    ) -> pd.DataFrame:
        """One row per network: totals and interval bounds (no per-layer tables). `models` is a list of what
        `predict` takes; one of them alone is a list of one, and an empty list gives a table with no rows.
        `batch_size` is one size for every model, or one per model, in order (not every size for every model,
        as the command's --batch-size 1,8 is: list each model once per size for that). With `strict`, a
        network with op types no model of their own covers is refused, as `predict` refuses it, and so is a
        `threads` the predictor was not fitted at (see check_threads)."""
        _check_keywords(how, "predict_many", ("batch_size", "input_shape", "confidence", "strict", "threads"))
        confidence = check_confidence(confidence)
        strict = true_or_false("strict", strict)
        self.check_threads(threads)
        features = self.features(models, batch_size, input_shape, **how)
        if strict:
            self._refuse_uncovered(features)
        arrays = self.predict_features(features, confidence)
        self._check_finite(arrays, features.batch.names)
        del arrays["outside"]  # among the novelty columns, last
        table = pd.DataFrame(arrays | self.novelty(features))
        table.insert(0, "model", np.array(features.batch.names, dtype=str))  # text columns even with no rows
        table.insert(1, "batch_size", features.batch.batch_sizes.astype(int))
        table["traced_on"] = np.array(features.traced_on, dtype=str)
        return table

    # --- how far from the training data ---

    def novelty(self, features: NetworkFeatures) -> dict[str, np.ndarray]:
        """Per network: `uncovered_share`, the share of its predicted latency from layers of op types with no
        model of their own (or groups no training network had), outside the sizes their model was trained
        on, or of a kind no training layer was (an implementation, dtype or layout indicator), and `uncovered_by`,
        what most of that share comes from; `distance` to the nearest training network (NaN for files
        without a domain); `outside`, true where either goes beyond what held-out families showed in
        validation. Computed once per features (theirs are this predictor's layers, as _check_features makes
        sure), and copied for each call."""
        self._check_features(features, "novelty")
        if features.novelty is None:
            features.novelty = self._novelty(features)
        return {key: values.copy() for key, values in features.novelty.items()}

    def _novelty(self, features: NetworkFeatures) -> dict[str, np.ndarray]:
        latency, causes, per_cause = self._uncovered_causes(features)
        uncovered = per_cause.any(axis=1)
        total = features.membership @ latency
        share = np.divide(
            features.membership @ (latency * uncovered), total, out=np.zeros(len(features)), where=total > 0
        )
        if self.domain is None:
            distance = np.full(len(features), np.nan)
            far = np.zeros(len(features), dtype=bool)
        else:
            distance = self.domain.distance(features.batch.aggregates)
            far = distance > self.domain.family_distance
        return {
            "uncovered_share": share,
            "uncovered_by": _describe_causes(features.membership @ (latency[:, None] * per_cause), causes, len(total)),
            "distance": distance,
            "outside": far | (share > UNCOVERED_SHARE_LIMIT),
            "untrained_setting": self._untrained_settings(features),
        }

    def _untrained_settings(self, features: NetworkFeatures) -> np.ndarray:
        """Per network, the dtypes and layout it runs in that the predictor has no data in ("float16",
        "float16, channels_last"; "" where none). A dtype is its layers': one layer in a half dtype the predictor
        has no data in makes it so, and a float32 network is one with no half-precision layer (a half network's
        float32 upcasts, a softmax or a norm, are its own). The layout is the network's, as its name says it ran
        (name@channels_last=1), not its layers': a ConvNeXt has channels-last layers in any run."""
        trained = self._trained_settings()
        per_layer = [_half_dtypes(record) for record in features.batch.layers]
        settings = sorted(set().union(*per_layer) - trained)
        has = np.array([[name in layer for name in settings] for layer in per_layer], dtype=float)
        untrained = np.asarray(features.membership @ has.reshape(len(per_layer), len(settings))) > 0
        if "float32" not in trained:
            half = np.array([bool(layer) for layer in per_layer], dtype=float)
            single = np.asarray(features.membership @ half).reshape(len(features)) == 0
            settings, untrained = ["float32", *settings], np.column_stack([single, untrained])
        if CHANNELS_LAST not in trained:
            laid_out = np.array([_ran_channels_last(name) for name in features.batch.names], dtype=bool)
            settings, untrained = [*settings, CHANNELS_LAST], np.column_stack([untrained, laid_out])
        if not settings or not len(features):
            return np.full(len(features), "", dtype=str)
        distinct, which = np.unique(untrained, axis=0, return_inverse=True)
        words = [", ".join(name for name, on in zip(settings, row) if on) for row in distinct]
        return np.array(words, dtype=str)[which.ravel()]

    @cached_property
    def _set_in_training(self) -> frozenset[str]:
        """What its training layers set, each to some value: config.approximate, config.bias."""
        return frozenset(setting_key(name) for name in self.variables)

    def _set(self, indicator: str) -> bool:
        """Whether an indicator the training layers never had tells of a setting they never had: a setting
        they held at other values (approximate=tanh where all were 'none'), one of a key hwprof records only
        where set (training=true: a norm left in training mode), or a dtype, layout or implementation. Any other
        setting they never set at all is taken as theirs unrecorded: a dataset measured before hwprof recorded
        that setting, or a synthetic one, lacks it."""
        return (
            not is_setting(indicator)
            or setting_key(indicator) in self._set_in_training
            or recorded_only_where_set(indicator)
        )

    def _unseen_settings(self, features: NetworkFeatures) -> str:
        """The settings (approximate=tanh) that layers of one network's features hold and no training layer of
        their op had, each with those ops: "approximate=tanh in gelu"; "" where none."""
        _, causes, per_cause = self._uncovered_causes(features)
        ops = {
            name: sorted({features.batch.layers[u].op for u in np.flatnonzero(layers)})
            for (kind, name), layers in zip(causes, per_cause.T)
            if kind == "unseen" and is_setting(name) and layers.any()
        }
        return "; ".join(f"{name} in {', '.join(names)}" for name, names in sorted(ops.items()))

    def _uncovered_causes(self, features: NetworkFeatures) -> tuple[np.ndarray, list[tuple[str, str]], np.ndarray]:
        """Each unique layer's predicted latency (ms), the causes a layer can be uncovered for as (kind, name)
        (kind "op": no model of its own, or its group none seen in training; "unseen": an indicator no
        training layer had, or a setting none of its model's training layers had; "size": another variable
        beyond what its model was trained on), and a (layers, causes) matrix of which apply."""
        layers = features.batch.layers
        known = held_indicators(self.variables)  # a network-rows predictor's too: those its training layers had
        indicators = [
            {name for name in _indicator_variables(record.config, self.indicates_settings) - known if self._set(name)}
            - self._undefined_indicators
            for record in layers
        ]
        unseen = sorted(set().union(*indicators))
        if not self.layer_sets:
            compiled = self.network_models["latency_ms"]
            group_position = {group: i for i, group in enumerate(OP_GROUPS)}
            latency = np.zeros(len(layers))
            width = len(AGGREGATE_KINDS)
            for u, record in enumerate(layers):
                base = group_position[op_group(record.op)] * width
                latency[u] = max(np.dot(record_aggregates(record), compiled.aggregates[base : base + width]), 0.0)
            unseen_groups = sorted({op_group(record.op) for record in layers} - self.groups_seen)
            matrix = np.array(
                [
                    [op_group(record.op) == group for group in unseen_groups] + [name in names for name in unseen]
                    for record, names in zip(layers, indicators)
                ]
            )
            causes = [("op", group) for group in unseen_groups] + [
                ("unseen", name.removeprefix(CONFIG_PREFIX)) for name in unseen
            ]
            return latency, causes, matrix.reshape(len(layers), len(causes)).astype(bool)
        latency = features.layer_columns[:, : len(OP_GROUPS)].sum(axis=1)
        sets = self.layer_sets["latency_ms"]
        stacked = sets.stacked
        index = features.model_index["latency_ms"]
        beyond = (features.z < stacked.covered_low[index] - RANGE_TOLERANCE) | (
            features.z > stacked.covered_high[index] + RANGE_TOLERANCE
        )
        unmodelled = ~features.own_model
        for u in np.flatnonzero(unmodelled):  # ops costed by a group model: covered where they were measured
            unmodelled[u] = not sets.measured_here(layers[u].op, features.z[u], RANGE_TOLERANCE)
        beyond[~unmodelled & ~features.own_model] = False
        ops = sorted({layers[u].op for u in np.flatnonzero(unmodelled)})
        # a setting beyond its model's training is one its layers never had; a layer without one they all had
        # is taken as at its default, as theirs (F.gelu(x) beside nn.GELU's approximate='none')
        settings = [j for j, name in enumerate(self.variables) if is_setting(name)]
        sizes = [j for j, name in enumerate(self.variables) if not is_setting(name)]
        had = beyond[:, settings] & (features.z[:, settings] > stacked.covered_high[index][:, settings])
        unseen = sorted(set(unseen) | {self.variables[settings[k]] for k in np.flatnonzero(had.any(axis=0))})
        causes = (
            [("op", op) for op in ops]
            + [("unseen", name.removeprefix(CONFIG_PREFIX)) for name in unseen]
            + [("size", self.variables[j].removeprefix(CONFIG_PREFIX)) for j in sizes]
        )
        matrix = np.zeros((len(layers), len(causes)), dtype=bool)
        for u in np.flatnonzero(unmodelled):
            matrix[u, ops.index(layers[u].op)] = True
        for u, names in enumerate(indicators):
            for name in names:
                matrix[u, len(ops) + unseen.index(name)] = True
        for k in np.flatnonzero(had.any(axis=0)):
            matrix[had[:, k], len(ops) + unseen.index(self.variables[settings[k]])] = True
        matrix[:, len(ops) + len(unseen) :] = beyond[:, sizes]
        return latency, causes, matrix

    def _widen_outside(self, arrays: dict[str, np.ndarray], outside: np.ndarray) -> None:
        """Outside the validated region, intervals take the largest error any held-out family showed."""
        if not outside.any():
            return
        for target in self._targets:
            low, high = self._widest_factors(target)
            arrays[f"{target}_low"] = np.where(
                outside, np.minimum(arrays[f"{target}_low"], arrays[target] * low), arrays[f"{target}_low"]
            )
            arrays[f"{target}_high"] = np.where(
                outside,
                np.maximum(arrays[f"{target}_high"], arrays[target] * high),
                arrays[f"{target}_high"],
            )

    def _unbound_untrained(self, arrays: dict[str, np.ndarray], untrained: np.ndarray) -> None:
        """No interval, (0, inf), for the networks in a dtype or layout the predictor has no data in: no held-out
        error says how far off its models are there (on a CPU without native float16, resnet18 ran 28x slower
        in float16 than in float32)."""
        for target in self._targets:
            arrays[f"{target}_low"] = np.where(untrained, 0.0, arrays[f"{target}_low"])
            arrays[f"{target}_high"] = np.where(untrained, math.inf, arrays[f"{target}_high"])

    def _widest_factors(self, target: str) -> tuple[float, float]:
        """Multipliers of the largest errors held-out networks showed, computed once per target; for a predictor
        scaled from another board's, at least that board's own (`base_widest`): a network outside the few
        networks the scale was checked on is as far off as that predictor is on networks it never saw."""
        key = (target, None)
        if key not in self._factors:
            low, high, _ = widest_bounds(self.network_models[target].model.residuals)
            if target in self.base_widest.get("log_bounds", {}):
                base_low, base_high = self.base_widest["log_bounds"][target]
                low, high = min(low, base_low), max(high, base_high)
            self._factors[key] = (math.exp(low), math.exp(high))
        return self._factors[key]

    def _outside_note(self, novelty: dict[str, np.ndarray], n: int, widened: bool, bounded: bool = True) -> str:
        parts = []
        if novelty["uncovered_share"][n] > UNCOVERED_SHARE_LIMIT:
            parts.append(
                f"{novelty['uncovered_share'][n]:.0%} of its predicted time comes from op types or sizes "
                f"no training row covered (mostly {novelty['uncovered_by'][n]})"
            )
        # fitted on one family, cross-validation held out networks of it, and the domain measured between them
        one_family = len(self.doc.get("training", {}).get("families", [])) == 1
        # a scaled prior held out one network at a time, not a family
        held_out = "network" if one_family or self.doc.get("cv", {}).get("scheme") == SCALE_LEAVE_ONE_OUT else "family"
        if self.base_widest:
            held_out += (
                f" or a held-out {self.base_widest['held_out']} of {self.base_widest['device_name']}'s own predictor"
            )
        if self.domain is not None and novelty["distance"][n] > self.domain.family_distance:
            if self.domain.family_distance <= 0:
                compared = "and the training networks are all of one family, so none was held out to compare with"
            elif one_family:
                compared = (
                    f"where held-out networks lay within {self.domain.family_distance:.2f} (the training networks "
                    "are all of one family, so no family was held out)"
                )
            else:
                compared = f"where held-out families lay within {self.domain.family_distance:.2f}"
            parts.append(f"it lies {novelty['distance'][n]:.2f} from the nearest training network, {compared}")
        if not bounded:  # untrained_note says why it has no interval
            return f"outside the training data: {'; '.join(parts)}"
        if not len(self.network_models["latency_ms"].model.residuals):
            interval = "no held-out error is known to widen its interval by (fitted without cross-validation)"
        elif widened:
            interval = f"its interval is widened to the largest error a held-out {held_out} showed"
        else:  # few held-out networks: the interval at this confidence already reaches the largest of their errors
            interval = f"its interval already spans the largest error a held-out {held_out} showed"
        return f"outside the training data: {'; '.join(parts)}; {interval}"

    def untrained_note(self, settings: str, partial: dict[str, str] | None = None) -> str:
        """Why a network in a dtype or layout the predictor has no data in gets no interval, and the measure
        command (at the training runs' device and thread count) whose data, fitted, gives it one. `partial`
        (from _partial_dtypes) names the dtypes only some of its layers run in, within a run of another (a float16
        embedding in a float32 model): the model measured as it is gives that data, where --dtype would convert
        the whole model."""
        conditions = self.conditions
        names = settings.split(", ")
        partial = {dtype: layers for dtype, layers in (partial or {}).items() if dtype in names}
        flags = [f"--dtype {name}" for name in names if name != CHANNELS_LAST and name not in partial]
        flags += ["--channels-last"] if CHANNELS_LAST in names else []
        flags += [f"--device {device}" for device in conditions["device"][:1] if device != "cpu"]
        flags += [f"--threads {count}" for count in conditions["threads"] if len(conditions["threads"]) == 1]
        flags += self._run_setting_flags()
        board = conditions["device_name"] or "its board"
        had = sorted(self._trained_settings() - {CHANNELS_LAST}) + (
            ["contiguous layout"] if CHANNELS_LAST in names else []
        )
        trained_in = f"on {board} (it was trained in {', '.join(had)}), so no held-out error bounds this prediction"
        command = f"`hwprof measure MODELS{''.join(f' {flag}' for flag in flags)}`"
        if partial:
            layers = " and ".join(f"{words} in {dtype}" for dtype, words in partial.items())
            rest = [name for name in names if name not in partial]
            runs = f" and runs in {_setting_words(rest)}" if rest else ""
            return (
                f"no interval: it has {layers}{runs}, which the predictor has no data in {trained_in}; measure "
                f"the model as it is, with {command} (no --dtype, which would convert the whole model), and fit "
                "with that data beside the predictor's datasets"
            )
        return (
            f"no interval: the predictor has no data in {_setting_words(names)} {trained_in}; measure networks there "
            f"with {command} and fit with that data beside the predictor's datasets"
        )

    def _partial_dtypes(self, features: NetworkFeatures, n: int, settings: str) -> dict[str, str]:
        """For network `n`, each untrained dtype in `settings` that only some of its layers run in, within a run of
        another dtype (its name's, float32 by default), with those layers in words: {"float16": "1 layer
        (embedding)"}. A network run in that dtype is wholly in it, whatever its float32 upcasts."""
        name = features.batch.names[n]
        run_dtype = _variant(name).get("dtype", "float32")
        dtypes = [dtype for dtype in settings.split(", ") if dtype in HALF_DTYPES and dtype != run_dtype]
        if not dtypes:
            return {}
        counts = features.batch.membership[n].toarray().ravel()  # how often it runs each unique layer
        partial = {}
        for dtype in dtypes:
            ops: dict[str, int] = {}
            for u in np.flatnonzero(counts):
                record = features.batch.layers[u]
                if dtype in _half_dtypes(record):
                    ops[record.op] = ops.get(record.op, 0) + int(counts[u])
            total = sum(ops.values())
            partial[dtype] = f"{total} layer{'s' * (total != 1)} ({', '.join(sorted(ops))})"
        return partial

    def _coverage_warnings(self, name: str, features: NetworkFeatures, strict: bool) -> list[str]:
        uncovered = self._uncovered(features, range(len(features.batch.layers)))
        if uncovered and strict:
            self._refuse_strict(name, uncovered)
        if self.uses_layers:
            models = self.layer_sets["latency_ms"]
            return [f"{op}: no layer model of its own, predicted by {models.covered_by(op)}" for op in uncovered]
        return [f"{group}: no training network had such layers, costed at shared rates" for group in uncovered]

    def _uncovered(self, features: NetworkFeatures, units: Iterable[int]) -> list[str]:
        """Among these unique layers, the op types with no layer model of their own (layer mode), or the op
        groups no training network had (analytic mode)."""
        layers = features.batch.layers
        if self.uses_layers:
            return sorted({layers[u].op for u in units if not features.own_model[u]})
        return sorted({op_group(layers[u].op) for u in units} - self.groups_seen)

    def _refuse_uncovered(self, features: NetworkFeatures) -> None:
        """`strict` over a batch: the first network with uncovered layers is refused, as `predict` refuses it."""
        membership = features.batch.membership.tocsr()
        for n, name in enumerate(features.batch.names):
            uncovered = self._uncovered(features, membership.indices[membership.indptr[n] : membership.indptr[n + 1]])
            if uncovered:
                self._refuse_strict(name, uncovered)

    def _refuse_strict(self, name: str, uncovered: list[str]) -> None:
        if self.uses_layers:
            raise HwprofError(
                f"{name} has op type(s) {', '.join(uncovered)} with no layer model of their own in "
                f"{self.source}; drop {option('strict')} to let the model of their op group (or the shared "
                f"fallback model) cover them, or refit with layer rows for them"
            )
        raise HwprofError(
            f"{name} has layers of group(s) {', '.join(uncovered)} that no training network had; "
            f"drop {option('strict')} to cost them at the shared per-layer, per-GMAC and per-MB rates"
        )

    def _layer_table(
        self, names: list[str], records: list[LayerRecord], features: NetworkFeatures, confidence: float
    ) -> pd.DataFrame:
        unique = {(r.op, r.config): u for u, r in enumerate(features.batch.layers)}
        position = np.array([unique[(r.op, r.config)] for r in records], dtype=np.intp)
        table = pd.DataFrame(
            {
                "index": np.arange(len(records)),
                "name": names,
                "op": [r.op for r in records],
                "group": [op_group(r.op) for r in records],
                "flops": [r.flops for r in records],
            }
        )
        if self.uses_layers:
            models = self.layer_sets["latency_ms"]
            index = features.model_index["latency_ms"][position]
            log_latency = features.layer_log["latency_ms"][position]
            bounds = models.log_bounds(confidence)[index]
            bounds = np.column_stack(holding_prediction(bounds[:, 0], bounds[:, 1]))
            table["model"] = [models.labels[i] for i in index]
            table["latency_ms"] = np.exp(log_latency) * self.layer_scale
            table["latency_ms_low"] = np.exp(log_latency + bounds[:, 0]) * self.layer_scale
            table["latency_ms_high"] = np.exp(log_latency + bounds[:, 1]) * self.layer_scale
            if "power_w" in self.layer_sets:
                table["power_w"] = np.exp(features.layer_log["power_w"][position])
                table["energy_mj"] = table["latency_ms"] * table["power_w"]
        else:  # the additive network model's per-layer terms
            compiled = self.network_models["latency_ms"]
            row = np.zeros((len(records), len(OP_GROUPS) * len(AGGREGATE_KINDS)))
            group_position = {group: i for i, group in enumerate(OP_GROUPS)}
            for i, record in enumerate(records):
                base = group_position[op_group(record.op)] * len(AGGREGATE_KINDS)
                row[i, base : base + len(AGGREGATE_KINDS)] = record_aggregates(record)
            table["model"] = "network-additive"
            table["latency_ms"] = row @ compiled.aggregates
        return table


# A network is outside the training data when more than this share of its predicted time comes from
# layers no training row covered; a layer is outside its model's training range when one of its encoded
# variables lies beyond it by more than RANGE_TOLERANCE (about 10%, the encoding being logarithmic).
UNCOVERED_SHARE_LIMIT = 0.1
RANGE_TOLERANCE = 0.1


def _base_widest(doc: dict) -> dict:
    """The widest held-out errors of the predictor a scaled prior was scaled from (its `cv.base_widest`: the board,
    what it held out, and per target the log bounds), {} where there are none."""
    cv = doc.get("cv")
    base = cv.get("base_widest") if isinstance(cv, dict) else None
    if base is None:
        return {}
    bounds = {target: (float(low), float(high)) for target, (low, high) in base["log_bounds"].items()}
    if not all(math.isfinite(low) and math.isfinite(high) and low <= high for low, high in bounds.values()):
        raise ValueError(f"cv.base_widest.log_bounds holds {bounds}, not finite low <= high")
    return {"device_name": str(base["device_name"]), "held_out": str(base["held_out"]), "log_bounds": bounds}


def _check_records(doc: dict) -> None:
    """The records a prediction's notes and intervals read, checked as fitting writes them: `cv` and `training` as
    objects (their families, thread counts and scheme are read for networks outside the training data), and every
    network model's held-out residuals, which a cross-validated fit always leaves for its latency (a file that
    lost them would have its intervals blamed on too few held-out networks)."""
    for part in ("cv", "training"):
        if part in doc and not isinstance(doc[part], dict):
            raise ValueError(f"its {part} is {shown(doc[part])}, not an object")
    families = doc.get("training", {}).get("families", [])
    if not isinstance(families, list):
        raise ValueError(f"training.families is {shown(families)}, not a list")
    for target, model in doc["network_models"].items():
        if not isinstance(model.get("residuals_log"), list):
            raise ValueError(f"network_models.{target}.residuals_log is missing or not a list")
    cv = doc.get("cv", {})
    if cv.get("scheme", "none") != "none" and not doc["network_models"]["latency_ms"]["residuals_log"]:
        raise ValueError(
            f"its cv held out {cv.get('networks', 'some')} networks, but network_models.latency_ms.residuals_log "
            "is empty"
        )


def _layer_scale(doc: dict) -> float:
    """What a predictor's layer latencies are multiplied by to be its board's: 1 where its layer models were fitted on
    its own board; for one adapted from another board's (fit --base, --prior), the factor recorded as `layer_board`,
    the new board's networks over that board's predictions. Its network model reads the layer models' own sums."""
    board = doc.get("layer_board")
    if board is None:
        return 1.0
    scale = float(board["latency_scale"])
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"layer_board.latency_scale is {scale}, not a positive number")
    return scale


def _setting_words(settings: Iterable[str]) -> str:
    """Dtypes and a layout as a sentence names them: "float16, channels-last layout"."""
    return ", ".join("channels-last layout" if name == CHANNELS_LAST else name for name in settings)


def _ran_channels_last(name: str) -> bool:
    """Whether a network's name says it ran channels-last (resnet18@channels_last=1), as measure and predict
    name it (models.spec.variant_name)."""
    return bool(_variant(name).get("channels_last"))


def _variant(name: str) -> dict:
    """How a network's name says it ran (models.spec.split_variant): {"dtype": "float16"}; {} for the defaults."""
    if "@" not in name:  # no variant (spec.VARIANT_MARK): nothing to read, and no need to import torch to read it
        return {}
    from hwprof.models.spec import split_variant

    return split_variant(name)[1]


def _half_dtypes(record: LayerRecord) -> set[str]:
    """The half-precision dtypes a layer's configuration says it computes in."""
    return {setting_name(name) for name in _indicator_variables(record.config, False)} & set(HALF_DTYPES)


def allocator_policy(label: object) -> str | None:
    """The --allocator policy a run's allocator label names ("steady (not applied, libjemalloc.so.2)": steady),
    None where it names none (unrecorded: not measured by hwprof, or damaged)."""
    policy = str(label).split(" ", 1)[0]
    return policy if policy in ALLOCATOR_POLICIES else None


def measure_runs(runs: list[dict]) -> list[dict]:
    """The run summaries (hwprof.fitting.data) of `hwprof measure` runs: those whose allocator names a policy. Another
    tool's run records none, and its cache mode, read as the warm of runs from before measure recorded one, is
    no setting a measure command can be advised to repeat."""
    return [run for run in runs if allocator_policy(run.get("allocator"))]


def _listed(value: object) -> list:
    """A list from a predictor document's provenance, or none where a damaged file holds something else: the
    provenance only describes the figures, so it never stops a prediction."""
    return value if isinstance(value, list) else []


def _is_one_model(value: object) -> bool:
    """A name or spec string, a ModelSpec, an nn.Module or a (module, example_inputs) pair: one model, where a list
    of them is taken. Neither class is imported to ask (an object of one exists only where its module is loaded)."""
    spec, torch = sys.modules.get("hwprof.models.spec"), sys.modules.get("torch")
    return (
        isinstance(value, str)
        or (spec is not None and isinstance(value, spec.ModelSpec))
        or (torch is not None and isinstance(value, torch.nn.Module))
        or (
            torch is not None and isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], torch.nn.Module)
        )
    )


def _model_list(models: Any) -> list:
    """The models of a list, or one model alone as a list of one; anything else is one sentence."""
    if _is_one_model(models):
        return [models]
    if not isinstance(models, Iterable):
        raise HwprofError(f"give a model or a list of models, e.g. 'resnet18' or ['resnet18', module], not {models!r}")
    return list(models)


def _model_label(model: Any) -> str:
    """A model as an error message names it: its name, or an object's class."""
    if isinstance(model, str):
        return model
    spec = sys.modules.get("hwprof.models.spec")
    return model.name if spec is not None and isinstance(model, spec.ModelSpec) else type(model).__name__


def _batch_sizes(batch_size: Any, count: int) -> list[int]:
    """One batch size per model, from one for every model or one per model (numpy's integers and arrays too)."""
    if getattr(batch_size, "ndim", None) == 0:
        batch_size = batch_size.item()  # a numpy scalar or 0-d array
    if isinstance(batch_size, numbers.Integral):
        return [positive_batch_size(batch_size)] * count
    if isinstance(batch_size, (str, bytes)) or not isinstance(batch_size, Iterable):
        raise HwprofError(
            f"{option('batch_size', shown(batch_size))}: give a positive whole number for every model, or a list "
            "of one per model"
        )
    sizes = [positive_batch_size(size) for size in batch_size]
    if len(sizes) != count:
        raise HwprofError(f"got {count} models but {len(sizes)} batch sizes; give one each or a single one")
    return sizes


def _check_keywords(how: dict, method: str, named: tuple[str, ...]) -> None:
    """A keyword `method` does not take is one sentence naming those it does (and its spelling of measure's
    plural seq_lens and batch_sizes), not network_layers' TypeError."""
    unknown = [key for key in how if key not in HOW_KEYWORDS]
    if not unknown:
        return
    accepted = [*named, *HOW_KEYWORDS]
    wanted = SPELLINGS.get(unknown[0]) or next(iter(difflib.get_close_matches(unknown[0], accepted, n=1)), None)
    hint = f": write {wanted}= as {method} spells it" if wanted in accepted else ""
    raise HwprofError(f"{method} has no keyword {unknown[0]}{hint}; its keywords are {', '.join(accepted)}")


SPELLINGS = {"seq_lens": "seq_len", "batch_sizes": "batch_size"}  # measure's plurals, where predict takes one


def _check_document(doc: Any) -> None:
    """A Predictor is made from a predictor document: a path or a partial dict is one sentence, not a TypeError
    or KeyError from inside."""
    remedy = "give the predictor document, or load a file with hwprof.load_predictor(path)"
    if not isinstance(doc, dict):
        raise HwprofError(f"a Predictor is made from a predictor document (a dict), not {shown(doc)}: {remedy}")
    missing = predictor_file.missing_parts(doc)
    if missing:
        raise HwprofError(f"the document given lacks its {missing[0]}, so it is no predictor document: {remedy}")


def check_confidence(confidence: Any) -> float:
    """`confidence` as a float: any real number between 0 and 1, numpy's included, as batch sizes take
    numpy's integers."""
    if getattr(confidence, "ndim", None) == 0:
        confidence = confidence.item()  # a numpy scalar or 0-d array
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise HwprofError(f"{option('confidence')} must be between 0 and 1 (e.g. 0.9), not {confidence!r}")
    return float(confidence)


@lru_cache(maxsize=ENCODING_CACHE_SIZE)
def _indicator_variables(config: str, settings: bool) -> frozenset[str]:
    """A layer configuration's indicator variables (see features.indicator_names), parsed once per config."""
    return frozenset(CONFIG_PREFIX + name for name in indicator_names(json.loads(config), settings, layout=settings))


def _describe_causes(time_per_cause: Any, causes: list[tuple[str, str]], n_networks: int) -> np.ndarray:
    """Per network, the (at most two) causes of most of its uncovered time in words, e.g. "batch beyond
    the trained range"; "" where nothing is uncovered. A layer's time counts once for each of its causes.
    Networks with the same top causes share one description, so a large batch costs a few sentences."""
    if not causes:
        return np.full(n_networks, "", dtype=str)
    time = np.asarray(time_per_cause, dtype=float).reshape(n_networks, len(causes))
    top = np.argsort(-time, axis=1, kind="stable")[:, :2]
    top = np.where(np.take_along_axis(time, top, axis=1) > 0, top, -1)
    distinct, which = np.unique(top, axis=0, return_inverse=True)
    phrases = {"size": "beyond the trained range", "unseen": "never in training", "op": "with no model of its own"}
    described = []
    for row in distinct:
        parts = []
        for kind, phrase in phrases.items():
            names = [causes[k][1] for k in row if k >= 0 and causes[k][0] == kind]
            if names:
                parts.append(f"{' and '.join(names)} {phrase}")
        described.append("; ".join(parts))
    return np.array(described, dtype=str)[which.ravel()]


def load_predictor(path: str | os.PathLike) -> Predictor:
    """Read a predictor file. It is data only: nothing in it is executed."""
    doc = predictor_file.load(as_path(path, "predictor file"))
    return Predictor(doc, source=str(path))  # a damaged part is one sentence naming the file
