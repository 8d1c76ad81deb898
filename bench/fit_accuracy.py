"""Accuracy of fitted predictors on the sample-model zoo measured on this machine.

    python bench/fit_accuracy.py [--zoo ZOO.parquet ...] [--sweep SWEEP.parquet ...]

Network latency is scored leave-one-family-out (the whole pipeline refitted
without the family, then asked about it). Layer latency is scored per op type
with the same family folds on unique layer configurations. Side by side, on
the same folds: a FLOPs-proportional model (latency = k x MACs, k fitted on
the training folds) and the plain sum of layer predictions, plus NeuralPower's
published network-level runtime figure for reference (another device).
The default data are bench/data/together{,_2,_3}.parquet: three runs, each
measuring the zoo and all layer sweeps in one process, interleaved. The fitter
aligns the runs to one machine speed and takes the median of the three as each
network's and layer configuration's target. The same fit without the sweeps'
layer rows is scored alongside.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import TOGETHER_RUNS, existing  # noqa: E402
from results_io import emit_markdown, heading, provenance  # noqa: E402

NEURALPOWER_NETWORK_RUNTIME_RMSPE = 1 - 0.8824  # ACML 2017: 88.24% average runtime accuracy (1 - RMSPE), GPUs
PRECISE_CI = 0.10


def flops_proportional_networks(data, folds) -> np.ndarray:
    """Out-of-fold predictions of latency = k x total MACs (k: geometric mean on the training folds)."""
    from hwprof.predictor.features import OP_GROUPS

    gmac = data.networks.aggregates.reshape(len(data.networks), len(OP_GROUPS), -1)[:, :, 1].sum(axis=1)
    y = data.targets["latency_ms"]
    predicted = np.full(len(y), np.nan)
    for train, test in folds.splits:
        k = np.exp(np.mean(np.log(y[train] / gmac[train])))
        predicted[test] = k * gmac[test]
    return predicted


def flops_proportional_layers(table, folds) -> np.ndarray:
    """Out-of-fold latency = k x MACs per op type (k x bytes for ops that do no MACs)."""
    flops = table["flops"].to_numpy(dtype=float)
    size = (table["input_bytes"] + table["output_bytes"] + table["weight_bytes"]).to_numpy(dtype=float)
    work = flops if np.all(flops > 0) else size
    y = table["latency_ms"].to_numpy(dtype=float)
    predicted = np.full(len(y), np.nan)
    for train, test in folds.splits:
        k = np.exp(np.mean(np.log(y[train] / work[train])))
        predicted[test] = k * work[test]
    return predicted


def main(argv: list[str] | None = None) -> None:
    """argv: the arguments (default sys.argv's); the command recorded is always the one that ran."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--zoo",
        nargs="+",
        default=existing(*TOGETHER_RUNS),
        help="Datasets of the zoo (they may hold sweep rows too, as together.parquet does).",
    )
    parser.add_argument("--sweep", nargs="*", default=[], help="Layer-sweep datasets added to the layer rows.")
    parser.add_argument("--out", default=str(HERE / "results" / "fit_accuracy.json"))
    args = parser.parse_args(argv)

    from hwprof.fitting.data import read_inputs, select_device, training_data
    from hwprof.fitting.layers import make_folds, rmspe
    from hwprof.fitting.pipeline import accuracy, fit_training_data
    from hwprof.models.spec import SWEEP_FAMILY, family_of
    from hwprof.progress import Notes

    frame, sources = read_inputs(args.zoo + args.sweep)
    frame, device = select_device(frame, None)
    data = training_data(frame, device, sources)
    results = {
        **provenance(),
        "dataset": ", ".join(args.zoo + args.sweep),
        "device_name": device,
        "networks": len(data.networks),
        "unique_layer_configs": len(data.layers),
        "sweep_layer_configs": int((data.layers["family"] == SWEEP_FAMILY).sum()),
        "families": sorted(set(data.families)),
        "power": _power_note(data),
    }
    folds = make_folds(data.families)
    results["network_cv_scheme"] = folds.scheme
    baseline = flops_proportional_networks(data, folds)
    results["network_latency"] = {"flops_proportional": accuracy(baseline, data.targets["latency_ms"])}
    results["layer_latency_rmspe"] = {}
    sweep_rows = frame["model"].astype(str).map(family_of) == SWEEP_FAMILY
    if sweep_rows.any():  # the same fit without the sweeps' layer rows, side by side
        zoo_data = training_data(frame[~sweep_rows], device, sources)
        zoo_only = fit_training_data(
            zoo_data,
            ["latency_ms"],
            family="auto",
            cv=True,
            progress=Notes(lambda m: print(f"[auto, zoo layers only] {m}", file=sys.stderr)),
        )
        results["network_latency"]["hwprof auto, zoo layers only"] = zoo_only.doc["cv"]["metrics"]["latency_ms"]
    for family in ("auto", "polynomial", "trees"):
        predictor = fit_training_data(
            data,
            ["latency_ms"],
            family=family,
            cv=True,
            progress=Notes(lambda m: print(f"[{family}] {m}", file=sys.stderr)),
        )
        metrics = predictor.doc["cv"]["metrics"]
        results["network_latency"][f"hwprof {family}"] = metrics["latency_ms"]
        if family == "auto":
            results["network_latency"]["sum of layer predictions (auto)"] = metrics.get("latency_ms_layer_sum")
            results["fit_seconds_auto"] = predictor.doc["training"]["fit_seconds"]
            results["held_out_predictions"] = predictor.doc["cv"]["held_out_predictions"]
        for op, model in predictor.doc["layer_models"]["latency_ms"]["ops"].items():
            entry = results["layer_latency_rmspe"].setdefault(
                op,
                {
                    "rows": model["cv"]["rows"],
                    "scored_rows": model["cv"].get("scored_rows", model["cv"]["rows"]),
                    "scheme": model["cv"]["scheme"],
                },
            )
            entry[f"hwprof {family}"] = model["cv"]["rmspe"]
            if family == "auto":
                entry["auto picked"] = model["cv"]["family"]
    for op, entry in results["layer_latency_rmspe"].items():
        rows = data.layers[data.layers["op"] == op].reset_index(drop=True)
        families = rows["family"].to_numpy()
        op_folds = make_folds(families, always_train=families == SWEEP_FAMILY)  # as the fit's own folds
        scored = op_folds.scored
        predicted = flops_proportional_layers(rows, op_folds)
        entry["flops_proportional"] = rmspe(predicted[scored], rows["latency_ms"].to_numpy(dtype=float)[scored])
        entry["ratio_auto_to_flops"] = entry["hwprof auto"] / entry["flops_proportional"]
    results["precise_networks"] = _precise_subset(results, data, baseline)
    ours = results["network_latency"]["hwprof auto"]
    results["network_latency"]["neuralpower_published_rmspe"] = NEURALPOWER_NETWORK_RUNTIME_RMSPE
    results["ratios"] = {
        "mape_auto_to_flops_proportional": ours["mape"] / results["network_latency"]["flops_proportional"]["mape"],
        "rmspe_auto_to_neuralpower_published": ours["rmspe"] / NEURALPOWER_NETWORK_RUNTIME_RMSPE,
    }
    emit_markdown(results, markdown(results), args.out)


def _precise_subset(results: dict, data, flops_baseline: np.ndarray) -> dict:
    """The same held-out predictions scored only on networks measured to within PRECISE_CI."""
    from hwprof.fitting.pipeline import accuracy

    rows = results["held_out_predictions"]
    keep = np.array([r["relative_ci"] <= PRECISE_CI for r in rows])
    measured = np.array([r["measured_latency_ms"] for r in rows])
    subset = {
        "rule": f"95% CI half-width <= {PRECISE_CI:.0%} of the latency (repeats combined)",
        "kept": int(keep.sum()),
        "of": len(rows),
        "excluded": [f"{r['model']} batch {r['batch_size']}" for r, k in zip(rows, keep) if not k],
    }
    ours = np.array([r["predicted_latency_ms"] for r in rows])
    layer_sum = np.array([r["predicted_latency_ms_layer_sum"] or np.nan for r in rows])
    subset["hwprof auto"] = accuracy(ours[keep], measured[keep])
    subset["sum of layer predictions (auto)"] = accuracy(layer_sum[keep], measured[keep])
    subset["flops_proportional"] = accuracy(flops_baseline[keep], measured[keep])
    return subset


def _power_note(data) -> str:
    measured = int(np.isfinite(data.targets["power_w"]).sum())
    if measured:
        return f"power measured on {measured} networks"
    return "unavailable: the dataset has no power_w (no power sensor readable on this machine), so power and energy are not scored"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def markdown(results: dict) -> str:
    lines = [
        *heading("Fit accuracy on the sample-model zoo", results),
        f"Machine: {results['machine']}  ",
        f"Data: {results['dataset']} ({results['device_name']}): {results['networks']} network rows, "
        f"{results['unique_layer_configs']} unique layer configurations "
        f"({results.get('sweep_layer_configs', 0)} of them from layer sweeps), families "
        f"{', '.join(results['families'])}  ",
        f"Power/energy: {results['power']}",
        "",
        f"Network latency, {results['network_cv_scheme']}:",
        "",
        "| predictor | MAPE | RMSPE | within 10% | Spearman | 90% interval coverage |",
        "|---|---|---|---|---|---|",
    ]
    for label, m in results["network_latency"].items():
        if not isinstance(m, dict):
            continue
        lines.append(
            f"| {label} | {_pct(m['mape'])} | {_pct(m['rmspe'])} | {_pct(m['within_10pct'])} | "
            f"{m['spearman']:.3f} | {_pct(m.get('coverage_90'))} |"
        )
    lines.append(
        f"| NeuralPower, published (GPU, other networks) | - | "
        f"{_pct(results['network_latency']['neuralpower_published_rmspe'])} | - | - | - |"
    )
    ratios = results["ratios"]
    lines += [
        "",
        f"hwprof auto / FLOPs-proportional MAPE: {ratios['mape_auto_to_flops_proportional']:.2f}; "
        f"hwprof auto / NeuralPower published RMSPE: {ratios['rmspe_auto_to_neuralpower_published']:.2f}.",
        "",
        "Per-held-out-family network latency MAPE (hwprof auto):",
        "",
    ]
    zoo_only = results["network_latency"].get("hwprof auto, zoo layers only")
    if zoo_only:
        lines += ["| family | networks | MAPE | within 10% | MAPE, zoo layers only |", "|---|---|---|---|---|"]
    else:
        lines += ["| family | networks | MAPE | within 10% |", "|---|---|---|---|"]
    for family, m in results["network_latency"]["hwprof auto"]["per_family"].items():
        lines.append(
            f"| {family} | {m['n']} | {_pct(m['mape'])} | {_pct(m['within_10pct'])} |"
            + (f" {_pct(zoo_only['per_family'][family]['mape'])} |" if zoo_only else "")
        )
    precise = results["precise_networks"]
    lines += [
        "",
        f"Only networks measured precisely ({precise['rule']}): {precise['kept']} of {precise['of']}"
        + (f"; excluded: {', '.join(precise['excluded'])}" if precise["excluded"] else ""),
        "",
        "| predictor | MAPE | RMSPE | within 10% | Spearman |",
        "|---|---|---|---|---|",
    ]
    for label in ("flops_proportional", "sum of layer predictions (auto)", "hwprof auto"):
        m = precise[label]
        lines.append(
            f"| {label} | {_pct(m['mape'])} | {_pct(m['rmspe'])} | {_pct(m['within_10pct'])} | {m['spearman']:.3f} |"
        )
    lines += [
        "",
        "Layer latency RMSPE per op type (unique configurations held out by family; sweep configurations "
        "are in every training fold and scored only where fewer than 3 families have the op):",
        "",
        "| op | configs (scored) | folds | hwprof auto (picked) | polynomial | trees | FLOPs-proportional | "
        "auto / FLOPs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for op, e in sorted(results["layer_latency_rmspe"].items()):
        lines.append(
            f"| {op} | {e['rows']} ({e.get('scored_rows', e['rows'])}) | {e['scheme']} | "
            f"{_pct(e['hwprof auto'])} ({e['auto picked']}) | "
            f"{_pct(e.get('hwprof polynomial'))} | {_pct(e.get('hwprof trees'))} | "
            f"{_pct(e['flops_proportional'])} | {e['ratio_auto_to_flops']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
