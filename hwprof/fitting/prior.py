"""A new board from a few networks and the boards a fleet has measured (HELP's idea, kept simple).

Boards differ in speed far more than in which networks are slow on them, so a
board is described by its latencies on a handful of networks: each fleet board's
predictor predicts those networks, and the board whose predictions match them
best up to one scale factor (the smallest spread of log(measured / predicted))
is the one the new board resembles. Its predictor is then adapted to the new
board: with layer models, its network model is learnt again from the new rows
(as `fit --base` does); without, its predictions are scaled by the factor. A
fleet can also resemble no new board at all (CPUs for a GPU): the new rows
fitted alone are then a candidate too, and replace the fleet when its best
board misses them by over 2x and they predict each other better. The
predictor file records every board considered, how well each matched, and
which one it learnt from, if any.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwprof.errors import HwprofError
from hwprof.files import now_text
from hwprof.fitting.data import TrainingData, device_of, mixed_thread_counts, networks_counted, training_data
from hwprof.fitting.pipeline import (
    adapt_training_data,
    adapted_training,
    fit_training_data,
    layer_board,
    network_domain,
    refit_networks,
)
from hwprof.predictor.intervals import widest_bounds
from hwprof.predictor.predictor import SCALE_LEAVE_ONE_OUT, Predictor
from hwprof.progress import Progress

MIN_NEW_NETWORKS = 3  # one scale factor and a spread need at least three networks (models, whatever their batches)
FLEET_USELESS_LOG_ERROR = math.log(2)  # the fleet's leave-one-out error beyond which the new rows may replace it
OWN_ROWS_MARGIN = 1.0  # ... if their own leave-one-out error is below the fleet's
HOW = {
    "scaled": "the closest board's predictor scaled by one factor",
    "adapted": "the closest board's layer models with its network model refitted",
    "own rows": "no board of the fleet resembles this one (a typical miss over 2x) and its own networks predict each "
    "other better, so they are fitted alone",
}


@dataclass(frozen=True)
class BoardMatch:
    device_name: str
    networks: int  # the new board's networks it was scored on (distinct models)
    rows: int  # their rows (a network at two batch sizes is two)
    log_rmse: float  # spread of log(measured / predicted) around its median: 0 = the same board, scaled
    log_scale: float  # median of log(measured / predicted): how much slower the new board is

    def to_json(self) -> dict:
        return {
            "device_name": self.device_name,
            "networks": self.networks,
            "rows": self.rows,
            "log_rmse": self.log_rmse,
            "scale": float(np.exp(self.log_scale)),
        }


def fit_from_prior(
    data: TrainingData,
    fleet: pd.DataFrame,
    fleet_sources: list[dict],
    targets: Sequence[str],
    family: str = "auto",
    cv: bool = True,
    progress: Progress | None = None,
    run_model_files: bool = False,
) -> Predictor:
    """A predictor for `data`'s board from the fleet board its few networks resemble most; the fleet's rows
    naming model files are traced only with `run_model_files` (training_data)."""
    own_rows = int((device_of(fleet) == data.device_name).sum())
    if own_rows:
        (progress or Progress()).note(
            f"prior: {own_rows} row(s) of the prior datasets were measured on {data.device_name}, the board "
            "being fitted: they are left out of the fleet (give them as datasets to fit from them)"
        )
    predictors = fleet_predictors(
        fleet, fleet_sources, family, exclude=data.device_name, progress=progress, run_model_files=run_model_files
    )
    predictor = adapt_from_fleet(data, predictors, family=family, cv=cv, progress=progress)
    chosen = predictor.doc["training"]["prior"]
    if cv and chosen["how"] == "scaled":
        predictor = _with_base_widest(predictor, fleet, fleet_sources, chosen["chosen"], family, run_model_files)
    predictor.doc["training"]["prior"]["sources"] = [s.get("path") for s in fleet_sources if s.get("path")]
    if set(targets) - {"latency_ms"}:
        (progress or Progress()).note(
            "prior: power and energy are not transferred between boards; the predictor gives latency only"
        )
    return predictor


def _with_base_widest(
    predictor: Predictor, fleet: pd.DataFrame, sources: list[dict], board: str, family: str, run_model_files: bool
) -> Predictor:
    """The scaled prior with the widest error of `board`'s predictor on held-out families (or networks, where it
    has one family): a network outside the new board's few networks is widened to at least that."""
    rows = fleet[device_of(fleet) == board]
    board_data = training_data(rows, board, sources_of(rows, sources), run_model_files=run_model_files)
    validated = fit_training_data(board_data, ["latency_ms"], family, cv=True)
    low, high, _ = widest_bounds(validated.network_models["latency_ms"].model.residuals)
    if not (math.isfinite(low) and math.isfinite(high)):  # too few networks to cross-validate
        return predictor
    doc = dict(predictor.doc)
    doc["cv"] = dict(
        doc["cv"],
        base_widest={
            "device_name": board,
            "held_out": "family" if len(set(board_data.families)) > 1 else "network",
            "log_bounds": {"latency_ms": [round(low, 6), round(high, 6)]},
        },
    )
    return Predictor(doc)


def fleet_predictors(
    fleet: pd.DataFrame,
    fleet_sources: list[dict],
    family: str = "auto",
    exclude: str | None = None,
    progress: Progress | None = None,
    run_model_files: bool = False,
) -> dict[str, Predictor]:
    """One latency predictor per board of the fleet's datasets (but `exclude`, the board being fitted)."""
    say = (progress or Progress()).note
    devices = device_of(fleet)
    boards = sorted(set(devices) - {exclude})
    if not boards:
        raise HwprofError(
            f"the prior datasets hold no board other than {exclude!r}: give datasets measured on "
            "other boards (each with its own device_name)"
        )
    # a board's predictor is for one thread count, as fit's is: its runs at two would be averaged as reruns
    mixed = {board: mixed_thread_counts(fleet[devices == board], fleet_sources) for board in boards}
    if all(mixed.values()):  # said once, by the error alone
        raise HwprofError(
            "no board of the prior datasets is left: each was measured at different thread counts "
            f"({'; '.join(f'{board} at {listing}' for board, (listing, _) in mixed.items())}), and a board's "
            f"predictor is for one; give {next(iter(mixed.values()))[1]}"
        )
    for board, (listing, fix) in ((board, found) for board, found in mixed.items() if found):
        (progress or Progress()).warn(
            f"prior: {board} is left out: its runs were measured at different thread counts ({listing}); "
            f"to keep it, give {fix}"
        )
    boards = [board for board in boards if not mixed[board]]
    predictors = {}
    for board in boards:
        say(f"prior: fitting {board}")
        rows = fleet[devices == board]
        board_data = training_data(rows, board, sources_of(rows, fleet_sources), run_model_files=run_model_files)
        fitted = fit_training_data(board_data, ["latency_ms"], family, cv=False)
        predictors[board] = Predictor(fitted.doc, source=f"prior board {board!r}")
    return predictors


def sources_of(rows: pd.DataFrame, sources: list[dict]) -> list[dict]:
    """The datasets one board's rows came from, each with only the runs (and the row count) of those rows: a
    board's predictor records its own datasets as its sources, not the whole fleet's."""
    paths = rows["source"].astype(str).value_counts() if "source" in rows.columns else None
    run_ids = set(rows["run_id"].dropna().astype(str)) if "run_id" in rows.columns else set()
    kept = []
    for source in sources:
        if paths is not None and source.get("path") not in paths.index:
            continue
        runs = [
            run for run in source.get("runs", []) if not run_ids or "run_id" not in run or str(run["run_id"]) in run_ids
        ]
        rows_from = int(paths[source["path"]]) if paths is not None else source.get("rows")
        kept.append(dict(source, runs=runs, rows=rows_from))
    return kept


def adapt_from_fleet(
    data: TrainingData,
    predictors: dict[str, Predictor],
    family: str = "auto",
    cv: bool = True,
    progress: Progress | None = None,
) -> Predictor:
    """The fleet predictor whose predictions match `data`'s networks best up to a scale, adapted to them;
    or `data` fitted alone when that predicts its networks better (leave-one-out)."""
    say = (progress or Progress()).note
    y = data.targets["latency_ms"]
    measured = np.isfinite(y) & (y > 0)
    models = np.asarray(data.networks.names)[measured]  # a network at two batch sizes is one network
    networks = len(set(models))
    if networks < MIN_NEW_NETWORKS:
        raise HwprofError(
            f"fitting from a prior needs the new board's latency on at least {MIN_NEW_NETWORKS} networks; "
            f"the datasets give {networks_counted(networks, int(measured.sum()))}"
        )
    matches, log_ratios = [], {}
    for board, predictor in predictors.items():
        r = log_ratios[board] = np.log(y[measured] / _latency(predictor, data.networks)[measured])
        scale = float(np.median(r))
        matches.append(BoardMatch(board, networks, int(measured.sum()), _rms(r - scale), scale))
    best = min(matches, key=lambda m: m.log_rmse)
    say(f"prior: the new board resembles {best.device_name} (log error {best.log_rmse:.3f} after scaling)")
    base = predictors[best.device_name]
    r = log_ratios[best.device_name]
    # each network's rows (all its batch sizes) against the scale the other networks give
    scaled_loo = np.array([r[i] - np.median(r[models != models[i]]) for i in range(len(r))])
    rows = np.flatnonzero(measured)
    # each candidate predicts every new network from the others: one scale factor; the network model
    # learnt again from the new rows; the new rows alone, with no prior
    errors = {"scaled": _rms(scaled_loo)}
    if base.uses_layers:
        errors["adapted"] = _rms(_adapted_leave_one_out(base, data, rows))
    if min(errors.values()) > FLEET_USELESS_LOG_ERROR:  # only then can the new rows alone be chosen
        own = fit_training_data(data, ["latency_ms"], family, cv=False)
        errors["own rows"] = _rms(_adapted_leave_one_out(own, data, rows))
    how = choose(errors)
    if how == "adapted":
        predictor = adapt_training_data(base, data, ["latency_ms"], cv=cv, progress=progress)
    elif how == "scaled":
        predictor = _scaled(base, best, scaled_loo, data, networks)
    else:
        predictor = fit_training_data(data, ["latency_ms"], family, cv=cv, progress=progress) if cv else own
    say(f"prior: {HOW[how]}, chosen by leave-one-out (log error {errors[how]:.3f})")
    predictor.doc["device_name"] = data.device_name
    predictor.doc["created"] = now_text()
    predictor.doc["training"] = dict(predictor.doc.get("training", {}), rerun_agreement=data.reruns)
    predictor.doc["training"]["prior"] = {
        "chosen": None if how == "own rows" else best.device_name,
        "closest": best.device_name,
        "how": how,
        "leave_one_out_log_rmse": errors,
        "boards": [m.to_json() for m in sorted(matches, key=lambda m: m.log_rmse)],
    }
    return predictor


def choose(errors: dict[str, float]) -> str:
    """How to fit the new board from each way's leave-one-out log error ("scaled", "adapted" where the
    closest board has layer models, "own rows" where the fleet's best way is over 2x off). A few rows
    fitted alone extrapolate wildly beyond themselves and their leave-one-out error flatters them, so they
    replace the fleet only when even its best way misses these networks by over 2x typically and they
    predict each other better."""
    how = min(("scaled", "adapted"), key=lambda h: errors.get(h, math.inf))
    own_rows = errors.get("own rows", math.inf)
    if errors[how] > FLEET_USELESS_LOG_ERROR and own_rows < OWN_ROWS_MARGIN * errors[how]:
        return "own rows"
    return how


def _latency(predictor: Predictor, batch) -> np.ndarray:
    return predictor.predict_features(predictor.features_from_batch(batch), intervals=False)["latency_ms"]


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values))))


def _adapted_leave_one_out(base: Predictor, data: TrainingData, rows: np.ndarray) -> np.ndarray:
    """log(measured / predicted) of each new row by the base's network model refitted on the other networks'
    rows, all of a network's batch sizes held out together (for a predictor fitted from network rows alone,
    that is a fit on the others)."""
    y = data.targets["latency_ms"]
    names = np.asarray(data.networks.names)[rows]
    out = np.empty(len(rows))
    for name in dict.fromkeys(names):
        held = names == name
        refitted = refit_networks(base, data.subset(rows[~held]), ["latency_ms"])
        out[held] = np.log(y[rows[held]] / _latency(refitted, data.networks.select(rows[held])))
    return out


def _scaled(base: Predictor, match: BoardMatch, residuals: np.ndarray, data: TrainingData, networks: int) -> Predictor:
    """Another board's predictor with its latency scaled to `data`'s board; its held-out residuals are
    leave-one-out, each network against the scale the other networks give. Its domain and its conditions
    (training.sources: the threads, device and cache its figures are for) are the new board's networks': the
    scale was checked on them, not on the networks the other board measured, whose sources stay as base_sources."""
    scale = float(np.exp(match.log_scale))
    model = dict(base.doc["network_models"]["latency_ms"])
    if model.get("form", "additive") == "log_ratio":  # layer sum x exp(intercept + ...) + cost x fresh MB
        coef = list(model["coef"])
        coef[model["columns"].index("intercept")] += match.log_scale
        model["coef"] = coef
        model["ms_per_output_mb"] = model.get("ms_per_output_mb", 0.0) * scale
    else:
        model["coef"] = [c * scale for c in model["coef"]]
    model["residuals_log"] = [round(float(v), 6) for v in np.sort(residuals)]
    doc = dict(
        base.doc,
        network_models={"latency_ms": model},
        targets=["latency_ms"],
        cv={"scheme": SCALE_LEAVE_ONE_OUT, "networks": networks, "rows": int(len(residuals))},
        domain=network_domain(data),
        layer_board=layer_board(base, match.log_scale),
    )
    doc["training"] = adapted_training(base, data)
    return Predictor(doc)
