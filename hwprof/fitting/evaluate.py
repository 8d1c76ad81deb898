"""Score a predictor against measured datasets: per op type and per network.

Metrics: RMSPE, MAPE, the share of predictions within 5% and 10%, Spearman
and Kendall rank correlation, and the share of measurements inside the
predicted interval (coverage) at the requested confidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hwprof.dataset import RUN_CONDITIONS, condition_differences
from hwprof.errors import HwprofError, each_call_warns_afresh, true_or_false
from hwprof.files import as_paths, check_output
from hwprof.fitting.data import (
    check_one_thread_count,
    files_by_value,
    networks_counted,
    read_inputs,
    select_device,
    thread_counts,
    training_data,
    with_variant_names,
)
from hwprof.fitting.pipeline import accuracy
from hwprof.plotting import axis_label, distinct_styles, literal_text, new_figure, plain_log_ticks, save_figure
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.predictor.features import encode_layers
from hwprof.predictor.predictor import Predictor, check_confidence, load_predictor

LAYER_SUM = "_layer_sum"  # a target predicted as the sum of its layers' predictions, scored on the network
LAYOUTS = {False: "contiguous (NCHW)", True: "channels-last (NHWC)"}  # a run's execution.channels_last in words


@each_call_warns_afresh
def evaluate(
    predictor: Predictor | str | os.PathLike,
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    confidence: float = INTERVAL_CONFIDENCE,
    device_name: str | None = None,
    run_model_files: bool = False,
) -> tuple[dict, pd.DataFrame]:
    """(report, points): the metrics, and every predicted/measured pair behind them. `predictor` is a Predictor
    or the path of its file; `paths` a dataset's path or a list of them. The report's rmspe, mape, within_5pct
    and within_10pct are fractions (0.05 is 5%), as is coverage; its `layers` are keyed by op, and by
    "total (all layers)" for every layer together.

    The datasets must be of one thread count, as fit's are: runs at two would be combined as reruns of one
    target, and the gap between them called measurement noise.

    A network row naming a Python file (path/to/file.py:factory) without layer rows is traced by running that
    file only with `run_model_files`: a dataset may come from anyone (hwprof.fitting.data.training_data)."""
    if isinstance(predictor, (str, os.PathLike)):
        predictor = load_predictor(predictor)
    elif not isinstance(predictor, Predictor):
        raise HwprofError(
            f"give the predictor as the path of its file or a hwprof.Predictor (hwprof.load_predictor reads one), "
            f"not a {type(predictor).__name__}"
        )
    check_confidence(confidence)
    run_model_files = true_or_false("run_model_files", run_model_files)
    frame, sources = read_inputs(as_paths(paths, "dataset"))
    frame, device = select_device(frame, device_name, suggested=predictor.doc.get("device_name"))
    check_one_thread_count(frame, sources, verb="evaluate")
    data = training_data(frame, device, sources, require_networks=False, align=False, run_model_files=run_model_files)
    points = [_network_points(predictor, data, confidence)]
    if predictor.uses_layers and len(data.layers):
        points.append(_layer_points(predictor, data, confidence))
    table = pd.concat(points, ignore_index=True)
    if table.empty:
        raise HwprofError("the datasets hold no measured latency the predictor could be scored on")
    report = {
        "predictor": predictor.source,
        "datasets": [s["path"] for s in sources],
        "device_name": device,
        "predictor_device_name": predictor.doc.get("device_name"),
        "confidence": confidence,
        "network": _metrics(table[table["level"] == "network"], by="target"),
        "network_per_family": {
            family: _metrics(group, by="target")
            for family, group in table[table["level"] == "network"].groupby("family")
        },
        "layers": _metrics(table[table["level"] == "layer"], by="op"),
        "rerun_agreement": data.reruns,  # networks measured in several runs are scored on their combination
    }
    notes = []
    fitted_sources = predictor.doc.get("training", {}).get("sources", [])
    same_device = report["predictor_device_name"] in (None, device)
    if not same_device:
        notes.append(
            f"the predictor was fitted on {report['predictor_device_name']!r} but the data was "
            f"measured on {device!r}: these figures measure transfer between devices"
        )
    else:
        fitted, measured = thread_counts(fitted_sources), thread_counts(sources)
        if fitted and measured and not set(measured) <= set(fitted):  # a thread count fit never saw: a transfer
            notes.append(
                f"the predictor was fitted on data measured at {'/'.join(map(str, fitted))} thread(s) but this data "
                f"at {'/'.join(map(str, measured))}: these figures measure transfer between thread counts"
            )
    run_ids = set(frame["run_id"].dropna().astype(str)) if "run_id" in frame.columns else None
    # bfloat16 runs at other speeds than float32, a convolution channels-last at other speeds than contiguous
    for key, named, kinds in (("dtype", str, "dtypes"), ("channels_last", LAYOUTS.get, "memory layouts")):
        fitted, measured = (
            sorted(map(named, files_by_value(fitted_sources, key))),
            sorted(map(named, files_by_value(sources, key, run_ids))),
        )
        if fitted and measured and not set(measured) <= set(fitted):
            notes.append(
                f"the predictor was fitted on {'/'.join(fitted)} data but this data was measured in "
                f"{'/'.join(measured)}: these figures measure transfer between {kinds}"
            )
    notes += _condition_notes(fitted_sources, sources, run_ids, same_device)
    notes += _interval_notes(predictor, table)
    notes += _in_sample_notes(predictor, frame, table)
    if notes:
        report["note"] = "; ".join(notes)
    return report, table


def _condition_notes(fitted_sources: list[dict], sources: list[dict], run_ids: set | None, same_device: bool) -> list:
    """A note for each of RUN_CONDITIONS (torch, allocator, cache mode, governor, turbo, CPU kernels, oneDNN,
    CPU, kernel and thread variables) in which the data's runs hold a value the predictor's training runs did not:
    each moves latency with no feature to tell, so the figures measure that transfer too. Settings either side
    did not record are unknown, never a difference; on another device its CPU is told already."""
    fitted = [run for source in fitted_sources for run in source.get("runs", [])]
    measured = [run for source in sources for run in source["runs"] if not run_ids or run.get("run_id") in run_ids]
    keys = [key for key in RUN_CONDITIONS if same_device or key != "cpu_id"]
    return [
        f"the predictor was fitted on data measured with {ours} but this data with {theirs}: these figures measure "
        f"transfer between {RUN_CONDITIONS[key][1]}"
        for key, ours, theirs in condition_differences(fitted, measured, keys, within=True)
    ]


def _network_points(predictor: Predictor, data, confidence: float) -> pd.DataFrame:
    """Each network's prediction with the interval predict shows for it: widened outside the training data, and
    none, (0, inf), in a dtype or layout the predictor has no data in (its `untrained_setting`)."""
    if len(data.networks) == 0:
        return pd.DataFrame()
    features = predictor.features_from_batch(data.networks)
    arrays = predictor.predict_features(features, confidence)
    outside = arrays["outside"]
    untrained = predictor.novelty(features)["untrained_setting"]
    frames = []
    for target in predictor.targets:
        measured = data.targets[target]
        frames.append(
            pd.DataFrame(
                {
                    "level": "network",
                    "target": target,
                    "name": data.networks.names,
                    "op": "network",
                    "family": data.families,
                    "batch_size": data.networks.batch_sizes.astype(int),
                    "measured": measured,
                    "predicted": arrays[target],
                    "low": arrays[f"{target}_low"],
                    "high": arrays[f"{target}_high"],
                    "outside": outside,
                    "untrained_setting": untrained,
                }
            )
        )
    for key in (k for k in arrays if k.endswith(LAYER_SUM)):  # NeuralPower-style sums, scored beside the fits
        measured = data.targets.get(key.removesuffix(LAYER_SUM))
        if measured is None:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "level": "network",
                    "target": key,
                    "name": data.networks.names,
                    "op": "network",
                    "family": data.families,
                    "batch_size": data.networks.batch_sizes.astype(int),
                    "measured": measured,
                    "predicted": arrays[key],
                    "low": np.nan,
                    "high": np.nan,
                    "outside": outside,
                    "untrained_setting": untrained,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table[np.isfinite(table["measured"]) & (table["measured"] > 0)]


def _interval_notes(predictor: Predictor, points: pd.DataFrame) -> list[str]:
    """The networks scored outside the training data, as predict notes each of them: their errors (and the
    coverage of their widened intervals) say how the predictor transfers, not how it does where it was fitted.
    A network in a dtype or layout the predictor has no data in has no interval to widen, and coverage leaves
    it out: it is named apart, with that setting."""
    if "outside" not in points.columns:  # layer rows alone
        return []
    scored = points[(points["level"] == "network") & (points["target"] == "latency_ms")]
    untrained = scored[scored["untrained_setting"] != ""]
    widened = scored[scored["outside"].astype(bool) & (scored["untrained_setting"] == "")]
    notes = []
    if len(widened):
        held_out = "network" if len(predictor.doc.get("training", {}).get("families", [])) == 1 else "family"
        if len(predictor.network_models["latency_ms"].model.residuals):
            interval = f"as in predict, their intervals are widened to the largest error a held-out {held_out} showed"
        else:
            interval = "no held-out error is known to widen their intervals by (fitted without cross-validation)"
        notes.append(
            f"{len(widened)} of {len(scored)} networks lie outside the training data ({_named(widened)}): {interval}"
        )
    if len(untrained):
        settings = "; ".join(
            f"{setting}: {_named(group)}" for setting, group in untrained.groupby("untrained_setting", sort=True)
        )
        notes.append(
            f"{len(untrained)} of {len(scored)} networks have no interval, as in predict, since they ran in a dtype "
            f"or layout the predictor has no data in ({settings}): coverage leaves them out, and a fit with such "
            "data gives them one"
        )
    return notes


def _in_sample_notes(predictor: Predictor, frame: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """A note naming the scored networks the predictor was fitted on: those its cross-validation held out (every
    network it trained on), and any measured in its training runs. Their errors are in-sample, smaller than on a
    network it has not seen; they are kept in the figures, as a user may want exactly those."""
    cv = predictor.doc.get("cv")
    rows = cv.get("held_out_predictions") if isinstance(cv, dict) else None
    trained = {
        (str(row.get("model")), row.get("batch_size"))
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict)
    }
    training = predictor.doc.get("training")
    sources = training.get("sources") if isinstance(training, dict) else None
    runs = {
        str(run["run_id"])
        for source in (sources if isinstance(sources, list) else [])
        if isinstance(source, dict)
        for run in source.get("runs") or []
        if isinstance(run, dict) and run.get("run_id")
    }
    if runs and "run_id" in frame.columns:  # named as training_data names them (a sequence length, a dtype)
        named = with_variant_names(frame)
        ours = named[
            named["kind"].astype("string").str.lower().eq("network").fillna(False)
            & named["run_id"].astype("string").isin(runs).fillna(False)
        ]
        trained |= set(zip(ours["model"].astype(str), ours["batch_size"].astype(int)))
    scored = points[(points["level"] == "network") & (points["target"] == "latency_ms")]
    if scored.empty or not trained:
        return []
    inside = scored[[(str(name), int(size)) in trained for name, size in zip(scored["name"], scored["batch_size"])]]
    if inside.empty:
        return []
    if len(inside) == len(scored):
        which = "every network scored was"
    else:
        ours, all_scored = (networks_counted(part["name"].nunique(), len(part)) for part in (inside, scored))
        which = f"{ours} of the {all_scored} scored were"
    return [
        f"{which} in the predictor's training data ({_named(inside)}): for them these figures are in-sample, and "
        "smaller than on a network it has not seen"
    ]


def _named(rows: pd.DataFrame) -> str:
    """Networks by name with their batch sizes, the first three: "alpha_0 batch 1, 4; beta_1 batch 1; 2 more"."""
    batches = rows.groupby("name", sort=True)["batch_size"].apply(
        lambda sizes: ", ".join(str(int(size)) for size in sorted(sizes))  # a float column: 1, not 1.0
    )
    named = [f"{name} batch {sizes}" for name, sizes in batches.items()]
    if len(named) > 3:
        named = [*named[:3], f"{len(named) - 3} more"]
    return "; ".join(named)


def _layer_points(predictor: Predictor, data, confidence: float) -> pd.DataFrame:
    models = predictor.layer_sets["latency_ms"]
    records = data.layer_records
    z = encode_layers(records, predictor.variables)
    ops = [r.op for r in records]
    index = models.model_index(ops)
    if (index < 0).any():
        uncovered = sorted({op for op, i in zip(ops, index) if i < 0})
        raise HwprofError(
            f"op type(s) {', '.join(uncovered)} have no layer model and the predictor has no shared "
            f"fallback model, so their layers cannot be scored"
        )
    # an adapted predictor's layer models are another board's, scaled to its own (layer_board): scored scaled
    predicted_log = models.predict_log(z, ops, index) + np.log(predictor.layer_scale)
    bounds = models.log_bounds(confidence)[index]
    return pd.DataFrame(
        {
            "level": "layer",
            "target": "latency_ms",
            "name": data.layers["config"].to_numpy(),
            "op": ops,
            "family": data.layers["family"].to_numpy(),
            "batch_size": np.nan,
            "measured": data.layers["latency_ms"].to_numpy(dtype=float),
            "predicted": np.exp(predicted_log),
            "low": np.exp(predicted_log + bounds[:, 0]),
            "high": np.exp(predicted_log + bounds[:, 1]),
            "model": [models.labels[i] for i in index],
        }
    )


LAYER_TOTAL = "total (all layers)"  # no op's name: an op may be called `all` (torch.all)


def _metrics(points: pd.DataFrame, by: str) -> dict:
    result = {}
    for key, group in points.groupby(by, sort=True):
        metrics = accuracy(group["predicted"].to_numpy(), group["measured"].to_numpy())
        metrics["coverage"] = _coverage(group)
        result[str(key)] = metrics
    if by == "op" and len(points):
        metrics = accuracy(points["predicted"].to_numpy(), points["measured"].to_numpy())
        metrics["coverage"] = _coverage(points)
        result[LAYER_TOTAL] = metrics
    return result


def _coverage(points: pd.DataFrame) -> float | None:
    """Share of measurements inside their interval, over the points that have one (None where none has): a
    predictor without an interval gives (0, inf), which every measurement lies in."""
    bounded = points[np.isfinite(points["high"]) & (points["low"] > 0)]
    if not len(bounded):
        return None
    return float(np.mean((bounded["measured"] >= bounded["low"]) & (bounded["measured"] <= bounded["high"])))


PLOT_FORMATS = (".png", ".pdf", ".svg")


def check_plot_path(path: str | os.PathLike, inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Refuse, before any work, a plot that could not be written where asked, or would replace an input."""
    if Path(path).suffix.lower() not in PLOT_FORMATS:
        raise HwprofError(f"plot file {path} must end in {', '.join(PLOT_FORMATS)}")
    check_output(path, inputs=inputs, force=True)  # a plot is redrawn at will: replacing one is fine


BAND = 0.10  # the ±10% band drawn around the identity line
PANELS_PER_ROW = 3


@literal_text()
def figure(points: pd.DataFrame, title: str = "", op_styles: dict | None = None):
    """Predicted against measured, one panel per network target and one for layers, at most three a row: on top on log axes
    with the identity line and a ±10% band, below as predicted/measured, where the band is a strip of fixed
    width whatever the range. Each op (layers) or family (networks) has a colour and marker of its own;
    `op_styles` gives the ops the colours the other views of a report gave them."""
    panels = [
        (_network_panel_title(t), t, points[(points["level"] == "network") & (points["target"] == t)])
        for t in points.loc[points["level"] == "network", "target"].unique()
    ]
    layers = points[points["level"] == "layer"]
    if len(layers):
        panels.append(("layers", "latency_ms", layers))
    # panels in rows of at most PANELS_PER_ROW: one row of seven was too wide to read at a report's width
    columns = min(len(panels), PANELS_PER_ROW)
    rows = -(-len(panels) // columns)
    figure = new_figure(figsize=(5.2 * columns, 7.4 * rows), layout="constrained")  # room for the title too
    grid = figure.add_gridspec(2 * rows, columns, height_ratios=[3, 1.3] * rows)
    places = [divmod(i, columns) for i in range(len(panels))]
    tops = [figure.add_subplot(grid[2 * row, column]) for row, column in places]
    bottoms = [figure.add_subplot(grid[2 * row + 1, column]) for row, column in places]
    for top, bottom, (label, target, group) in zip(tops, bottoms, panels):
        colour_key = "op" if label == "layers" else "family"
        keys = sorted(group[colour_key].astype(str).unique())
        shared = colour_key == "op" and op_styles and set(keys) <= set(op_styles)
        styles = op_styles if shared else distinct_styles(keys)
        low = float(min(group["measured"].min(), group["predicted"].min())) / 1.3
        high = float(max(group["measured"].max(), group["predicted"].max())) * 1.3
        line = np.geomspace(low, high, 50)
        top.fill_between(
            line, line * (1 - BAND), line * (1 + BAND), color="#f2c14e", alpha=0.55, zorder=1, label=f"±{BAND:.0%}"
        )
        for factor in (1 - BAND, 1 + BAND):
            top.plot(line, line * factor, color="#c98b00", linewidth=0.8, linestyle="--", zorder=1)
        top.plot(line, line, color="black", linewidth=0.9, zorder=2, label="predicted = measured")
        bottom.axhspan(1 - BAND, 1 + BAND, color="#f2c14e", alpha=0.55, zorder=1)
        bottom.axhline(1.0, color="black", linewidth=0.9, zorder=2)
        for key, part in group.groupby(group[colour_key].astype(str), sort=True):
            style = styles[key]
            top.scatter(part["measured"], part["predicted"], s=16, alpha=0.85, label=key, zorder=3, **style)
            bottom.scatter(part["measured"], part["predicted"] / part["measured"], s=12, alpha=0.85, zorder=3, **style)
        inside = float(np.mean(np.abs(group["predicted"] / group["measured"] - 1) <= BAND))
        top.set_xscale("log")
        top.set_yscale("log")
        top.set_xlim(low, high)
        top.set_ylim(low, high)
        top.set_ylabel(axis_label(target, "predicted"))
        top.set_title(f"{label}: {inside:.0%} within ±{BAND:.0%} (n={len(group)})", fontsize=10)
        top.grid(True, which="both", alpha=0.25)
        top.legend(fontsize=6, loc="upper left", ncol=2 if len(keys) > 12 else 1)
        bottom.set_xscale("log")
        bottom.set_xlim(low, high)
        bottom.set_xlabel(axis_label(target.removesuffix(LAYER_SUM), "measured"))  # the network as measured
        bottom.set_ylabel("predicted / measured")
        for axis in (top.xaxis, top.yaxis, bottom.xaxis):
            plain_log_ticks(axis, low, high)
        bottom.grid(True, which="both", alpha=0.25)
    if title:
        figure.suptitle(title, fontsize=9)
    return figure


def _network_panel_title(target: str) -> str:
    """ "network latency (ms)"; a layer sum named as what it is, not by its key."""
    base = target.removesuffix(LAYER_SUM)
    return f"network {axis_label(base)}{', predicted as the sum of layer predictions' if base != target else ''}"


def plot(points: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """The figure above, written to `path` (png, pdf or svg)."""
    check_plot_path(path)
    save_figure(figure(points, title), path)  # a write that fails is one sentence naming the file
