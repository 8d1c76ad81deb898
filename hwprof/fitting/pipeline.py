"""Fit a predictor from datasets, validated by leaving one model family out.

The whole pipeline (layer models, then network models) is refitted once per
held-out family, in the forms the fit on all networks chose (each op's model
family, the network model's correction), and scored on that family's networks,
so the reported errors and the residuals behind the intervals describe the
predictor's own models on architectures they never saw.
"""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from hwprof.errors import HwprofError, option
from hwprof.files import now_text
from hwprof.fitting.data import (
    TrainingData,
    allocator_pinned,
    networks_counted,
    thread_counts,
)
from hwprof.fitting.layers import MIN_ROWS, fit_op_model, make_folds, training_range
from hwprof.fitting.network import (
    energy_design,
    fit_analytic_latency,
    fit_log_ratio_model,
    fit_network_model,
    power_design,
)
from hwprof.models.spec import SWEEP_FAMILY
from hwprof.predictor.domain import Domain
from hwprof.predictor.features import (
    AGGREGATE_KINDS,
    BASE_VARIABLES,
    FRESH_KIND,
    GEMM_VARIABLES,
    OP_GROUPS,
    PHYSICAL_VARIABLES,
    RANK_DEPENDENT_VARIABLES,
    NetworkBatch,
    config_variables,
    encode_layers,
    op_group,
)
from hwprof.predictor.file import new_document
from hwprof.predictor.intervals import held_out_coverage
from hwprof.predictor.layer_model import LayerModel, LayerModelSet, ranges_json
from hwprof.predictor.network_model import CompiledNetworkModel
from hwprof.predictor.predictor import IN_MEMORY, Predictor
from hwprof.progress import Progress

FALLBACK_VARIABLES = PHYSICAL_VARIABLES + ("batch",)
LAYER_TARGETS = ("latency_ms", "power_w")


def fit_training_data(
    data: TrainingData, targets: Sequence[str], family: str = "auto", cv: bool = True, progress: Progress | None = None
) -> Predictor:
    say = (progress or Progress()).note
    started = time.perf_counter()
    variables = list(BASE_VARIABLES) + config_variables(_configs(data))
    layer_z = encode_layers(data.layer_records, variables) if len(data.layers) else np.zeros((0, len(variables)))
    network_z = encode_layers(data.networks.layers, variables)
    layer_targets = [t for t in LAYER_TARGETS if t in targets and _measured(data.layers, t) >= MIN_ROWS]
    if "latency_ms" not in layer_targets:
        layer_targets = []  # power layer models need latency layer models beside them
    say(f"fitting {len(data.layers)} unique layer configurations and {data.networks_counted()}")
    everything = np.ones(len(data.networks), dtype=bool)
    fit_on = functools.partial(_fit_once, data, variables, layer_z, network_z, layer_targets, targets, family)
    doc = fit_on(np.ones(len(data.layers), dtype=bool), everything)
    doc["domain"] = network_domain(data)
    predictor = Predictor(doc)
    if cv:
        choices = {target: _model_choices(entry) for target, entry in doc["layer_models"].items()}
        latency_choice = doc["network_models"]["latency_ms"]

        def fit_fold(train: np.ndarray) -> Predictor | None:
            network_mask = np.zeros(len(data.networks), dtype=bool)
            network_mask[train] = True
            layer_mask = _layers_of(data, train)
            if layer_targets and _measured(data.layers[layer_mask], "latency_ms") < MIN_ROWS:
                return None  # the held-out networks held the layer rows: nothing to learn layers from
            return Predictor(fit_on(layer_mask, network_mask, choices, latency_choice))

        _cross_validate(predictor, data, targets, fit_fold, say)
    doc["training"] = _training_summary(data, variables, layer_targets, time.perf_counter() - started)
    return Predictor(doc)


def adapt_training_data(
    base: Predictor, data: TrainingData, targets: Sequence[str], cv: bool = True, progress: Progress | None = None
) -> Predictor:
    """`base`'s layer models with network models learned from `data`'s networks, validated the
    same way as a full fit (so the intervals are calibrated on the new networks)."""
    say = (progress or Progress()).note
    named = "the base predictor" if base.source == IN_MEMORY else base.source
    if not base.uses_layers:
        raise HwprofError(
            f"{named} has no layer models (it was fitted from network rows alone), so there is "
            f"nothing to keep from it; fit without {option('base')}"
        )
    say(f"keeping the layer models of {named}; fitting network models on {data.networks_counted()}")
    predictor = refit_networks(base, data, targets)
    doc = predictor.doc
    doc["training"]["network_refit"].update(
        base=base.source, base_device_name=base.doc.get("device_name"), sources=data.sources
    )
    latency = doc["network_models"]["latency_ms"]
    kept_base = False
    if not latency["cv"]["columns"] and latency["cv"].get("simplest") == "identity" and not latency["ms_per_output_mb"]:
        # the layer sums as they are: the new rows taught the network model nothing, and the summary says so
        too_few = not latency["cv"]["log_rmse"]
        doc["training"]["network_refit"]["nothing_learnt"] = (
            "too few networks to choose a correction"
            if too_few
            else "no correction predicted the held-out families better than the layer sum as it is"
        )
        kept_base = too_few and data.device_name == base.doc.get("device_name")
        if kept_base:
            _keep_base_network_models(doc, base)
    if cv:
        _cross_validate(
            predictor,
            data,
            targets,
            # the base's network models, kept, learnt nothing from a fold: they are scored on its held-out networks
            (lambda train: Predictor(doc))
            if kept_base
            else (lambda train: refit_networks(base, data.subset(train), targets, latency)),
            say,
        )
        if doc["cv"]["scheme"] == "none":
            _keep_base_intervals(doc, base)
    return Predictor(doc)  # not base's file: fit(out=...) saves it to its own


def _keep_base_network_models(doc: dict, base: Predictor) -> None:
    """Too few new networks to choose a correction, on the board the base fitted its own from: the base's network
    models (learnt from its many networks) stand, where the plain layer sum would have replaced them."""
    kept = [target for target in doc["network_models"] if target in base.doc.get("network_models", {})]
    for target in kept:
        doc["network_models"][target] = copy.deepcopy(base.doc["network_models"][target])
    doc["training"]["network_refit"]["base_network_models_kept"] = kept


def _keep_base_intervals(doc: dict, base: Predictor) -> None:
    """Too few new networks to cross-validate: each target keeps the base's held-out residuals, so the adapted
    predictor's intervals are the base's (calibrated on its networks) rather than none at all."""
    kept = []
    for target, model in doc["network_models"].items():
        residuals = base.doc.get("network_models", {}).get(target, {}).get("residuals_log")
        if residuals:
            model["residuals_log"] = list(residuals)
            kept.append(target)
    if kept:
        doc["cv"]["intervals_from_base"] = kept


def refit_networks(
    predictor: Predictor,
    data: TrainingData,
    targets: Sequence[str] = ("latency_ms",),
    latency_choice: dict | None = None,
) -> Predictor:
    """Keep the predictor's layer models; learn its network models again from `data`'s networks.

    This adapts a predictor to new whole-network measurements (another search
    space, a few networks measured on site, another board) without measuring layers again: on
    another board (another device_name) or thread count, the layer sums are scaled to it before any
    correction.
    `latency_choice`: see _fit_network_targets."""
    network_z = encode_layers(data.networks.layers, predictor.variables)
    other_board = _another_setting(predictor, data)
    docs = _fit_network_targets(
        data.networks,
        data.families,
        data.targets,
        targets,
        predictor.layer_sets,
        network_z,
        data.relative_ci,
        fresh_memory=not allocator_pinned(data.sources),
        latency_choice=latency_choice,
        other_board=other_board,
    )
    # the layers' power is the base board's (or thread count's): only the latency sums are scaled to this one
    layer_models = predictor.doc.get("layer_models", {})
    dropped = sorted(target for target in layer_models if other_board and target != "latency_ms")
    doc = dict(
        predictor.doc,
        layer_models={target: entry for target, entry in layer_models.items() if target not in dropped},
        created=now_text(),
        network_models=docs,
        targets=list(docs),
        cv={"scheme": "none", "reason": "refitted"},
        domain=network_domain(data),
        device_name=data.device_name,
    )
    if other_board:  # the layer models give the base's latency: its layer figures are scaled to this board's
        doc["layer_board"] = layer_board(predictor, board_log_scale(predictor, data))
    # the layer rows are the base's; the networks, their conditions and how far their reruns disagree the new data's
    doc["training"] = adapted_training(
        predictor,
        data,
        network_refit={
            "networks": len(data.networks),
            "models": data.models,
            "families": sorted(set(data.families)),
            **({"layer_models_dropped": dropped} if dropped else {}),
        },
        rerun_agreement=data.reruns,
    )
    return Predictor(doc)


def board_log_scale(base: Predictor, data: TrainingData) -> float:
    """How much slower `data`'s board runs than `base` predicts: the median log(measured / predicted) over its
    networks (0 where none was measured)."""
    y = data.targets["latency_ms"]
    predicted = base.predict_features(base.features_from_batch(data.networks), intervals=False)["latency_ms"]
    measured = np.isfinite(y) & (y > 0)
    return float(np.median(np.log(y[measured] / predicted[measured]))) if measured.any() else 0.0


def layer_board(base: Predictor, log_scale: float) -> dict:
    """The `layer_board` of a predictor that keeps `base`'s layer models for a board exp(log_scale) times slower
    than `base`'s: the board those models were fitted on, and what their latencies are multiplied by to be the
    new board's (per layer, with their intervals, and their sum; see predictor._layer_scale)."""
    kept = base.doc.get("layer_board") or {"device_name": base.doc.get("device_name")}
    return {"device_name": kept["device_name"], "latency_scale": base.layer_scale * float(np.exp(log_scale))}


def adapted_training(base: Predictor, data: TrainingData, **more) -> dict:
    """The training record of a predictor adapted from `base` to `data` (--base, --prior): the new data's sources
    and board, whose threads, device and cache its figures are for, with the base's datasets as base_sources."""
    return dict(
        base.doc.get("training", {}),
        sources=data.sources,
        device_name=data.device_name,
        base_sources=kept_sources(base),
        **more,
    )


def kept_sources(predictor: Predictor) -> list[dict]:
    """The datasets the models an adapted predictor keeps from `predictor` were fitted from: its own training
    sources, or, where it was adapted itself, those of its base (`training.base_sources`)."""
    training = predictor.doc.get("training", {})
    return training.get("base_sources", training.get("sources", []))


def _another_setting(predictor: Predictor, data: TrainingData) -> bool:
    """Whether `data` ran on another board than `predictor`'s training data, or at another thread count
    than its layer models' data (where both recorded theirs): its layer sums are then another setting's latency."""
    if predictor.doc.get("device_name") != data.device_name:
        return True
    before = thread_counts(kept_sources(predictor))
    now = thread_counts(data.sources)
    return bool(before and now and before != now)


def network_domain(data: TrainingData) -> dict:
    """Where the training networks lie. The distance a held-out family showed is measured between
    families; with a single family, between models, as cross-validation then holds out rows."""
    families = data.families if len(set(data.families)) >= 2 else np.asarray(data.networks.names)
    return Domain.fit(data.networks.aggregates, families).to_json()


def _configs(data: TrainingData):
    seen = {record.config for record in data.networks.layers} | set(data.layers["config"])
    return (json.loads(config) for config in sorted(seen))


def _measured(layers, target: str) -> int:
    if target not in layers.columns or layers.empty:
        return 0
    values = layers[target].to_numpy(dtype=float)
    return int(np.sum(np.isfinite(values) & (values > 0)))


def _fit_once(
    data: TrainingData,
    variables: list[str],
    layer_z: np.ndarray,
    network_z: np.ndarray,
    layer_targets: list[str],
    targets: Sequence[str],
    family: str,
    layer_mask: np.ndarray,
    network_mask: np.ndarray,
    choices: dict | None = None,
    latency_choice: dict | None = None,
) -> dict:
    """The predictor document fitted on the masked layer configurations and networks.

    `choices` (target -> _model_choices: each op's, group's and the fallback's family) reuses the model family picked
    on all data, so refits inside cross-validation skip re-scoring the others, and score the
    layer models the predictor holds; `latency_choice` does the same for the network model
    (see _fit_network_targets).
    """
    layer_docs, latency_oof = {}, None
    for target in layer_targets:
        layer_docs[target], oof = _fit_layer_target(
            data,
            variables,
            layer_z,
            target,
            family,
            layer_mask,
            (choices or {}).get(target),
            _network_time_shares(data, network_mask),
        )
        if target == "latency_ms":
            latency_oof = _on_network_layers(data, oof)
    sets = {t: LayerModelSet.from_json(d, variables) for t, d in layer_docs.items()}
    batch = data.networks.select(np.flatnonzero(network_mask))
    families = data.families[network_mask]
    network_docs = _fit_network_targets(
        batch,
        families,
        {t: v[network_mask] for t, v in data.targets.items()},
        targets,
        sets,
        network_z,
        data.relative_ci[network_mask],
        latency_oof,
        fresh_memory=not allocator_pinned(data.sources),
        latency_choice=latency_choice,
    )
    groups_seen = sorted({op_group(record.op) for record in data.networks.layers})
    return new_document(data.device_name, variables, groups_seen, layer_docs, network_docs)


def _model_choices(entry: dict) -> dict:
    """The model family each of a target's models (`entry` of the predictor document) was fitted as, for a refit
    in validation to fit the same: "ops" and "groups" map names to families, "fallback" is one (None: none)."""
    return {
        "ops": {op: model["cv"]["family"] for op, model in entry["ops"].items()},
        "groups": {group: model["cv"]["family"] for group, model in entry["groups"].items()},
        "fallback": entry["fallback"]["cv"]["family"] if entry["fallback"] else None,
    }


def _on_network_layers(data: TrainingData, per_config: np.ndarray) -> np.ndarray:
    """A per-configuration array (rows of data.layers) moved onto the networks' unique layers."""
    position = {key: i for i, key in enumerate(zip(data.layers["op"], data.layers["config"]))}
    moved = np.full(len(data.networks.layers), np.nan)
    for u, record in enumerate(data.networks.layers):
        i = position.get((record.op, record.config))
        if i is not None:
            moved[u] = per_config[i]
    return moved


def _network_time_shares(data: TrainingData, networks: np.ndarray) -> np.ndarray:
    """Per configuration (row of data.layers), its share of the time of the `networks` (a mask): in each network,
    how often it runs times its measured latency over the network's measured layer sum, summed over the networks,
    so each network counts once. A configuration no network runs (a sweep's) has none."""
    position = {key: i for i, key in enumerate(zip(data.layers["op"], data.layers["config"]))}
    index = np.array([position.get((record.op, record.config), -1) for record in data.networks.layers], dtype=int)
    found = index >= 0
    latency_ms = np.zeros(len(index))
    latency_ms[found] = data.layers["latency_ms"].to_numpy(dtype=float)[index[found]]
    latency_ms = np.where(np.isfinite(latency_ms) & (latency_ms > 0), latency_ms, 0.0)
    time_ms = data.networks.membership[np.flatnonzero(networks)].multiply(latency_ms[None, :]).tocsr()
    totals = np.asarray(time_ms.sum(axis=1)).ravel()
    per_layer = np.asarray(time_ms.multiply(1.0 / np.where(totals > 0, totals, 1.0)[:, None]).sum(axis=0)).ravel()
    shares = np.zeros(len(data.layers))
    np.add.at(shares, index[found], per_layer[found])
    return shares


def _fit_layer_target(
    data: TrainingData,
    variables: list[str],
    layer_z: np.ndarray,
    target: str,
    family: str,
    mask: np.ndarray,
    choices: dict | None = None,
    network_time: np.ndarray | None = None,
) -> tuple[dict, np.ndarray]:
    """Op models, op-group models and the shared fallback for one target, and each configuration's
    out-of-fold log prediction (from the model that would cover it: its own op model where it has one,
    else its op group's, else the fallback's; NaN where not fitted).

    An op with too few rows of its own is costed like the ops it resembles: a group model (relu, gelu
    and relu6 are all activations) is fitted over the physical variables of every op of the group and
    shifted for that op by the mean error on its own measured layers, if any; only ops of no such group
    fall to the fallback over all layers. Where the sweeps may be left out of an op's own model, that choice weighs
    each configuration by `network_time`, its share of the networks' time (see fit_op_model), where given; a
    shared model's is judged as before: on default runs of an mlp, a resnet and a vit with an eight-op sweep,
    weighing it by time kept a sweep that bends the fallback's refit in validation (its terms chosen again on two
    families), which its out-of-fold predictions do not show: held-out MAPE 50% went to 191%."""
    values = data.layers[target].to_numpy(dtype=float)
    usable = mask & np.isfinite(values) & (values > 0)
    y_log = np.log(np.where(usable, values, 1.0))
    groups = data.layers["family"].to_numpy()
    sweeps = groups == SWEEP_FAMILY  # in every training fold, never held out (see make_folds)
    ops = data.layers["op"].to_numpy()
    relative_ci = data.layers["relative_ci"].to_numpy(dtype=float)
    rate_limited = target == "latency_ms"  # no layer faster than the best rate measured; power has no such bound
    all_columns = list(range(len(variables)))
    gemm = [variables.index(name) for name in GEMM_VARIABLES if name in variables]
    unambiguous = [c for c in all_columns if variables[c] not in RANK_DEPENDENT_VARIABLES]
    configs = data.layers["config"].to_numpy()
    out_of_fold = np.full(len(values), np.nan)

    def fit_rows(
        rows: np.ndarray, columns: list[int], model_family: str, sweeps_optional: bool, judged: str | None = None
    ) -> LayerModel:
        """The model of these rows; their out-of-fold predictions go to out_of_fold. A shared model (`judged`: a
        group's name or "fallback") leaves the sweeps out by its error on the ops it costs with their family out."""
        model, out_of_fold[rows] = fit_op_model(
            layer_z[rows],
            y_log[rows],
            groups[rows],
            variables,
            columns,
            model_family,
            relative_ci[rows],
            sweeps[rows],
            rate_limited,
            sweeps_optional,
            None if judged is None else costed_by[rows] == judged,
            None if network_time is None or judged is not None else network_time[rows],
        )
        return model

    # auto, on all data, may leave the sweeps out of any model (see fit_op_model); a refit in validation replays that
    sweeps_optional = choices is None and family == "auto"
    fallback, group_models = None, {}
    op_groups = np.array([op_group(op) for op in ops])
    costed_by = _costed_with_family_out(ops, op_groups, groups, usable)
    rows = np.flatnonzero(usable)
    if len(rows) >= MIN_ROWS:
        physical = [variables.index(name) for name in FALLBACK_VARIABLES]
        # a sweep of some ops bends what a shared model predicts for others: a held-out family's convolutions,
        # costed by a fallback fitted mostly on 40 configurations each of a few element-wise ops
        chosen = "polynomial" if choices is None else choices["fallback"] or "polynomial"
        fallback = fit_rows(rows, physical, chosen, sweeps_optional, "fallback")
        for group in sorted(set(op_groups[usable]) - {"other"}):
            rows = np.flatnonzero(usable & (op_groups == group))
            if len(rows) >= MIN_ROWS:
                chosen = "polynomial" if choices is None else choices["groups"].get(group, "polynomial")
                group_models[group] = fit_rows(rows, physical, chosen, sweeps_optional, group)
    docs, measured_only = {}, {}
    for op in sorted(set(ops[usable])):
        rows = np.flatnonzero(usable & (ops == op))
        if len(rows) >= MIN_ROWS and (choices is None or op in choices["ops"]):
            # a matrix product fed tensors of several ranks (a classifier's rows and a transformer's tokens)
            # is described by its M, N and K; what in_dim1 means differs between its rows
            mixed = bool(gemm) and bool(np.any(layer_z[np.ix_(rows, gemm)])) and _ranks_differ(configs[rows])
            docs[op] = fit_rows(
                rows,
                unambiguous if mixed else all_columns,
                family if choices is None else choices["ops"][op],
                sweeps_optional,
            ).to_json(variables)
        elif len(rows):  # costed by a group model, but these sizes were measured: a prediction there is covered
            measured_only[op] = ranges_json(training_range(layer_z[rows], all_columns), variables)
    offsets = {}
    for op in measured_only:
        covering = group_models.get(op_group(op))
        if covering is None:
            continue
        rows = np.flatnonzero(usable & (ops == op))
        residual = y_log[rows] - covering.predict_log(layer_z[rows])
        offsets[op] = _shrunk_mean(residual)
        # out of fold, a family's layers are shifted by what the op's layers in other families say
        for held in set(groups[rows]) - {SWEEP_FAMILY}:
            own = groups[rows] == held
            out_of_fold[rows[own]] += _shrunk_mean(residual[~own])
    entry = {
        "ops": docs,
        "groups": {group: model.to_json(variables) for group, model in group_models.items()},
        "fallback": None if fallback is None else fallback.to_json(variables),
        "measured_only": measured_only,
        "offsets": offsets,
    }
    return entry, out_of_fold


def _costed_with_family_out(ops: np.ndarray, op_groups: np.ndarray, families: np.ndarray, usable: np.ndarray):
    """Per layer row, the model that costs it in a refit without its family: "op" (its op keeps MIN_ROWS rows),
    its op group's name (the group does), else "fallback"; "" for sweeps and unusable rows, never held out."""
    costed = np.full(len(ops), "", dtype=object)
    for family in set(families[usable]) - {SWEEP_FAMILY}:
        held = usable & (families == family)
        kept = usable & (families != family)
        op_rows = dict(zip(*np.unique(ops[kept], return_counts=True)))
        group_rows = dict(zip(*np.unique(op_groups[kept], return_counts=True)))
        for i in np.flatnonzero(held):
            if op_rows.get(ops[i], 0) >= MIN_ROWS:
                costed[i] = "op"
            elif op_groups[i] != "other" and group_rows.get(op_groups[i], 0) >= MIN_ROWS:
                costed[i] = op_groups[i]
            else:
                costed[i] = "fallback"
    return costed


def _ranks_differ(configs: np.ndarray) -> bool:
    """Whether these layers' first inputs differ in their number of dimensions."""
    return len({len((json.loads(config).get("input_shapes") or [[]])[0]) for config in configs}) > 1


def _shrunk_mean(residual: np.ndarray) -> float:
    """The mean of a few log residuals, shrunk towards none (one layer moves its op half as far as it is off)."""
    return float(residual.sum() / (len(residual) + 1))


def _layer_sums(
    sets: dict[str, LayerModelSet], batch: NetworkBatch, network_z: np.ndarray, known_log: np.ndarray | None = None
) -> np.ndarray:
    """Per network and op group, the sum of predicted layer latencies; `known_log` (log ms per
    unique layer, NaN where unknown) replaces the prediction where given."""
    ops = [record.op for record in batch.layers]
    models = sets["latency_ms"]
    predicted_log = models.predict_log(network_z, ops)
    if known_log is not None:
        predicted_log = np.where(np.isfinite(known_log), known_log, predicted_log)
    position = {group: i for i, group in enumerate(OP_GROUPS)}
    onehot = np.zeros((len(ops), len(OP_GROUPS)))
    onehot[np.arange(len(ops)), [position[op_group(op)] for op in ops]] = 1.0
    return batch.membership @ (onehot * np.exp(predicted_log)[:, None])


def _fit_network_targets(
    batch: NetworkBatch,
    families: np.ndarray,
    values: dict[str, np.ndarray],
    targets: Sequence[str],
    sets: dict[str, LayerModelSet],
    network_z: np.ndarray,
    relative_ci: np.ndarray,
    layer_oof_log: np.ndarray | None = None,
    fresh_memory: bool = True,
    latency_choice: dict | None = None,
    other_board: bool = False,
) -> dict:
    """Network models for each target. With layer models, the latency model learns from each
    network's *out-of-fold* layer sum where its layers were measured: it must correct layer
    predictions as they are for networks the layer models did not see, not as they are in-sample.
    `fresh_memory` False (every dataset pinned the allocator) leaves out the fresh-memory cost.

    `latency_choice` (the latency model's document from a fit on all networks) makes a refit in
    cross-validation fit the form that fit chose (its correction's columns and penalty, or no
    correction; its baseline in network-only fits) rather than choose again from fewer networks:
    the held-out residuals behind the intervals are then those of the model the predictor holds.
    `other_board`: the layer models were fitted on another board (see fit_log_ratio_model)."""
    docs = {}
    y = values["latency_ms"]
    names = np.asarray(batch.names)
    splits = make_folds(families, units=names).splits if len(y) >= 3 else []
    if sets:
        per_group = batch.aggregates.reshape(len(batch), len(OP_GROUPS), len(AGGREGATE_KINDS))
        stacked_sums = _layer_sums(sets, batch, network_z, layer_oof_log)
        fresh_mb = per_group[:, :, FRESH_KIND].sum(axis=1) if fresh_memory else None
        latency_model = fit_log_ratio_model(
            "latency_ms",
            stacked_sums,
            per_group[:, :, 0],
            y,
            splits,
            relative_ci,
            fresh_mb,
            latency_choice,
            other_board,
        )
        layer_sums = _layer_sums(sets, batch, network_z)
    else:
        layer_sums = None
        latency_model = fit_analytic_latency(batch.aggregates, y, splits, relative_ci, latency_choice, batch.names)
    docs["latency_ms"] = latency_model.to_json()
    predicted_latency, contributions = CompiledNetworkModel(latency_model).latency_parts(layer_sums, batch.aggregates)
    predicted_latency = np.maximum(predicted_latency, 1e-6)
    for target in ("power_w", "energy_mj"):
        if target not in targets:
            continue
        measured = np.isfinite(values[target]) & (values[target] > 0)
        rows = np.flatnonzero(measured)
        if len(rows) < 3:  # a cross-validation fold's training split (the whole data has 3: training_data checks)
            continue  # this fold scores no {target}: its held-out networks stay unscored for it
        target_splits = make_folds(families[rows], units=names[rows]).splits
        if target == "power_w":
            positive = np.maximum(contributions[rows], 0.0)
            shares = positive / np.maximum(positive.sum(axis=1, keepdims=True), 1e-12)
            design, x = power_design(shares, values[target][rows])
        else:
            design, x = energy_design(predicted_latency[rows], batch.aggregates[rows], values[target][rows])
        docs[target] = fit_network_model(
            target, x, values[target][rows], design, target_splits, relative_ci[rows]
        ).to_json()
    return docs


def _cross_validate(
    predictor: Predictor,
    data: TrainingData,
    targets,
    fit_fold: Callable[[np.ndarray], Predictor | None],
    say: Callable[[str], None],
) -> None:
    """Leave one family out over the networks, refitting with `fit_fold(train rows)`; store the held-out
    residuals and metrics in the predictor document. A fold `fit_fold` cannot fit (None: its training
    networks have too few layer rows for layer models) leaves its networks unscored, and says so."""
    families = data.families
    names = np.asarray(data.networks.names)
    n = len(families)
    folds = make_folds(families, units=names)
    if n < 3 or len(folds.splits) < 2:
        predictor.doc["cv"] = {"scheme": "none", "reason": f"only {data.networks_counted()}: too few to cross-validate"}
        return
    fold_of = np.full(n, -1)
    predicted = {t: np.full(n, np.nan) for t in targets}
    layer_sum = np.full(n, np.nan)
    unscored = []
    for k, (train, test) in enumerate(folds.splits):
        if np.isin(families[train], families[test]).any():  # a split over rows: part of a family is held out
            held = f"{networks_counted(len(set(names[test])), len(test))} of the {data.networks_counted()}"
        else:
            held = ", ".join(sorted(set(families[test])))
        say(f"cross-validation fold {k + 1}/{len(folds.splits)}: holding out {held}")
        fold_predictor = fit_fold(train)
        if fold_predictor is None:
            unscored.append(held)
            say(f"  not scored: without {held} fewer than {MIN_ROWS} layer rows are left to fit layer models")
            continue
        features = fold_predictor.features_from_batch(data.networks.select(test))
        arrays = fold_predictor.predict_features(features, intervals=False)
        for t in targets:
            if t in arrays:
                predicted[t][test] = arrays[t]
        if "latency_ms_layer_sum" in arrays:
            layer_sum[test] = arrays["latency_ms_layer_sum"]
        fold_of[test] = k
    if (fold_of >= 0).sum() < 3:
        scored = fold_of >= 0
        reason = (
            f"the folds that could be fitted hold out {networks_counted(len(set(names[scored])), int(scored.sum()))}: "
            "too few to score"
        )
        predictor.doc["cv"] = {"scheme": "none", "reason": reason}
        return
    metrics = {}
    for t in targets:
        measured = data.targets[t]
        ok = np.isfinite(measured) & (measured > 0) & np.isfinite(predicted[t])
        residuals = np.log(measured[ok] / predicted[t][ok])
        model_doc = predictor.doc["network_models"][t]
        model_doc["residuals_log"] = [round(float(r), 6) for r in np.sort(residuals)]
        metrics[t] = accuracy(predicted[t][ok], measured[ok])
        metrics[t]["networks"] = len(set(names[ok]))  # its n counts rows: a network at 4 batch sizes is 4
        metrics[t]["coverage_90"] = held_out_coverage(residuals, fold_of[ok], 0.9)
        metrics[t]["per_family"] = {
            f: accuracy(predicted[t][ok & (families == f)], measured[ok & (families == f)])
            for f in sorted(set(families[ok]))
        }
    if np.isfinite(layer_sum).any():
        ok = np.isfinite(layer_sum)
        metrics["latency_ms_layer_sum"] = accuracy(layer_sum[ok], data.targets["latency_ms"][ok])
        metrics["latency_ms_layer_sum"]["networks"] = len(set(names[ok]))
    held_out = [
        {
            "model": name,
            "batch_size": int(size),
            "family": str(family),
            "relative_ci": round(float(ci), 5),
            **{f"measured_{t}": _plain(data.targets[t][i]) for t in targets},
            **{f"predicted_{t}": _plain(predicted[t][i]) for t in targets},
            "predicted_latency_ms_layer_sum": _plain(layer_sum[i]),
        }
        for i, (name, size, family, ci) in enumerate(
            zip(data.networks.names, data.networks.batch_sizes, families, data.relative_ci)
        )
    ]
    predictor.doc["cv"] = {
        "scheme": folds.scheme,
        "folds": len(folds.splits),
        "networks": data.models,
        "rows": n,  # (model, batch size), as the metrics' n count them
        "metrics": metrics,
        "held_out_predictions": held_out,
        **({"unscored": unscored} if unscored else {}),
    }


def _plain(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _layers_of(data: TrainingData, networks: np.ndarray) -> np.ndarray:
    """Layer configurations a fold trained on `networks` may learn from: all but those that run only in
    the held-out networks (layer sweeps and layers of networks without a network row are kept)."""
    if len(data.layers) == 0:
        return np.zeros(0, dtype=bool)
    held_out = np.setdiff1d(np.arange(len(data.networks)), networks)

    def keys(rows: np.ndarray) -> set:
        used = np.flatnonzero(np.asarray(data.networks.membership[rows].sum(axis=0)).ravel() > 0)
        return {(data.networks.layers[u].op, data.networks.layers[u].config) for u in used}

    unseen = keys(held_out) - keys(networks)
    return np.array([key not in unseen for key in zip(data.layers["op"], data.layers["config"])], dtype=bool)


def accuracy(predicted: np.ndarray, measured: np.ndarray) -> dict:
    """RMSPE, MAPE, share within 5% and 10%, and rank agreement of predicted vs measured."""
    predicted = np.asarray(predicted, dtype=float)
    measured = np.asarray(measured, dtype=float)
    n = len(measured)
    if n == 0:
        return {"n": 0}
    error = (predicted - measured) / measured
    result = {
        "n": int(n),
        "rmspe": float(np.sqrt(np.mean(error**2))),
        "mape": float(np.mean(np.abs(error))),
        "within_5pct": float(np.mean(np.abs(error) <= 0.05)),
        "within_10pct": float(np.mean(np.abs(error) <= 0.10)),
        "spearman": None,
        "kendall": None,
    }
    if n >= 3 and np.ptp(measured) > 0 and np.ptp(predicted) > 0:
        result["spearman"] = float(stats.spearmanr(predicted, measured).statistic)
        result["kendall"] = float(stats.kendalltau(predicted, measured).statistic)
    return result


def _training_summary(data: TrainingData, variables, layer_targets, seconds: float) -> dict:
    ops = data.layers["op"].value_counts().to_dict() if len(data.layers) else {}
    return {
        "sources": data.sources,
        "device_name": data.device_name,
        "rows": {
            "unique_layer_configs": int(len(data.layers)),
            "networks": int(len(data.networks)),  # rows: (model, batch size)
            "models": data.models,
            "layer_configs_per_op": {str(k): int(v) for k, v in ops.items()},
        },
        "families": sorted(set(data.families)),
        "layer_targets": list(layer_targets),
        "variables": len(variables),
        "allocator_pinned": allocator_pinned(data.sources),  # then no fresh-memory cost is fitted
        "run_alignment": data.alignment.to_json(),
        "rerun_agreement": data.reruns,
        "fit_seconds": round(seconds, 2),
    }
