"""Score a predictor against measured datasets: per op type and per network.

Metrics: RMSPE, MAPE, the share of predictions within 5% and 10%, Spearman
and Kendall rank correlation, and the share of measurements inside the
predicted interval (coverage) at the requested confidence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hwprof.errors import HwprofError
from hwprof.files import check_output, write_atomically
from hwprof.fitting.data import read_inputs, select_device, training_data
from hwprof.fitting.pipeline import accuracy
from hwprof.predictor.features import encode_layers
from hwprof.predictor.predictor import Predictor, check_confidence


def evaluate(
    predictor: Predictor, paths: Sequence[str | os.PathLike], confidence: float = 0.9, device_name: str | None = None
) -> tuple[dict, pd.DataFrame]:
    """(report, points): the metrics, and every predicted/measured pair behind them."""
    check_confidence(confidence)
    frame, sources = read_inputs(paths)
    frame, device = select_device(frame, device_name)
    data = training_data(frame, device, sources, require_networks=False, align=False)
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
    }
    if report["predictor_device_name"] not in (None, device):
        report["note"] = (
            f"the predictor was fitted on {report['predictor_device_name']!r} but the data was "
            f"measured on {device!r}: these figures measure transfer between devices"
        )
    return report, table


def _network_points(predictor: Predictor, data, confidence: float) -> pd.DataFrame:
    if len(data.networks) == 0:
        return pd.DataFrame()
    arrays = predictor.predict_features(predictor.features_from_batch(data.networks), confidence)
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
                }
            )
        )
    for key in (k for k in arrays if k.endswith("_layer_sum")):  # NeuralPower-style sums, scored beside the fits
        measured = data.targets.get(key.removesuffix("_layer_sum"))
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
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table[np.isfinite(table["measured"]) & (table["measured"] > 0)]


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
    predicted_log = models.stacked.predict_log(z, index)
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


def _metrics(points: pd.DataFrame, by: str) -> dict:
    result = {}
    for key, group in points.groupby(by, sort=True):
        metrics = accuracy(group["predicted"].to_numpy(), group["measured"].to_numpy())
        bounded = group.dropna(subset=["low", "high"])
        metrics["coverage"] = (
            float(np.mean((bounded["measured"] >= bounded["low"]) & (bounded["measured"] <= bounded["high"])))
            if len(bounded)
            else None
        )
        result[str(key)] = metrics
    if by == "op" and len(points):
        metrics = accuracy(points["predicted"].to_numpy(), points["measured"].to_numpy())
        metrics["coverage"] = float(
            np.mean((points["measured"] >= points["low"]) & (points["measured"] <= points["high"]))
        )
        result["all layers"] = metrics
    return result


PLOT_FORMATS = (".png", ".pdf", ".svg")


def check_plot_path(path: str | os.PathLike, inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Refuse, before any work, a plot that could not be written where asked, or would replace an input."""
    if Path(path).suffix.lower() not in PLOT_FORMATS:
        raise HwprofError(f"plot file {path} must end in {', '.join(PLOT_FORMATS)}")
    check_output(path, inputs=inputs, force=True)  # a plot is redrawn at will: replacing one is fine


def plot(points: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """Predicted against measured on log axes: one panel per network target, one for layers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        (f"network {t}", points[(points["level"] == "network") & (points["target"] == t)])
        for t in points.loc[points["level"] == "network", "target"].unique()
    ]
    layers = points[points["level"] == "layer"]
    if len(layers):
        panels.append(("layer latency_ms", layers))
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.4), squeeze=False)
    for axis, (label, group) in zip(axes[0], panels):
        colour_key = "op" if label.startswith("layer") else "family"
        for key, part in group.groupby(colour_key):
            axis.scatter(part["measured"], part["predicted"], s=12, label=str(key), alpha=0.75)
        low = float(min(group["measured"].min(), group["predicted"].min()))
        high = float(max(group["measured"].max(), group["predicted"].max()))
        line = np.array([low, high])
        axis.plot(line, line, color="black", linewidth=0.8)
        axis.fill_between(line, line * 0.9, line * 1.1, color="grey", alpha=0.2, label="±10%")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("measured")
        axis.set_ylabel("predicted")
        axis.set_title(label)
        axis.legend(fontsize=6, loc="upper left")
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    check_plot_path(path)
    try:
        write_atomically(
            path, lambda temporary: figure.savefig(temporary, dpi=110, format=Path(path).suffix[1:].lower())
        )
    except OSError as error:
        raise HwprofError(f"cannot write the plot to {path}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
