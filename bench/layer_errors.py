"""Where a held-out family's predicted layers go wrong: per op and per layer, against their measurements.

    python bench/layer_errors.py [--data A.parquet ...] [--families squeezenet vgg] [--out OUT.json]

For each held-out family the fit is redone from scratch without that family's rows (its layers and
networks; `auto` chooses its models again, where a fold of `fit`'s own validation keeps the choices
made on all data), and its networks' layers are predicted. Reported
per op: predicted over measured time, summed over the family's layer instances (so the op's share of
the networks' time weighs in), and the RMSPE over its unique configurations; then the layers furthest
off by time. Measured layer times are the fit's own combined targets (runs aligned, median of three).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import TOGETHER_RUNS, existing  # noqa: E402
from results_io import emit_markdown  # noqa: E402

WORST_LAYERS = 3


def _describe(config: str) -> str:
    c = json.loads(config)
    keys = (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "in_features",
        "out_features",
        "input_shapes",
    )
    return ", ".join(f"{k}={c[k]}" for k in keys if k in c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=existing(*TOGETHER_RUNS))
    parser.add_argument("--families", nargs="*", default=None, help="Held-out families (default: every one).")
    parser.add_argument("--out", default=str(HERE / "results" / "layer_errors.json"))
    args = parser.parse_args()

    from hwprof.fitting.data import read_inputs, select_device, training_data
    from hwprof.fitting.pipeline import fit_training_data
    from hwprof.models.spec import family_of

    frame, sources = read_inputs(args.data)
    frame, device = select_device(frame, None)
    data = training_data(frame, device, sources)
    measured = data.layers.set_index(["op", "config"])["latency_ms"]
    families = args.families or sorted(set(data.families))
    results = {"command": " ".join(["python", *sys.argv]), "data": args.data, "families": {}}
    lines = []
    row_family = frame["model"].astype(str).map(family_of)
    for held in families:
        fold = training_data(frame[row_family != held], device, sources)
        predictor = fit_training_data(fold, ["latency_ms"], family="auto", cv=False)
        layers = []
        for name, batch in sorted(
            {(n, b) for n, b, f in zip(data.networks.names, data.networks.batch_sizes, data.families) if f == held}
        ):
            table = predictor.predict(name, batch_size=int(batch)).layers
            for op, config, predicted, model in zip(
                table["op"], _configs(name, int(batch)), table["latency_ms"], table["model"]
            ):
                if (op, config) in measured.index:
                    layers.append(
                        (name, int(batch), op, config, float(predicted), float(measured[(op, config)]), model)
                    )
        per_op = {}
        for op in sorted({layer[2] for layer in layers}):
            mine = [layer for layer in layers if layer[2] == op]
            unique = {layer[3]: (layer[4], layer[5]) for layer in mine}
            ratios = np.array([p / m for p, m in unique.values()])
            per_op[op] = {
                "time_ratio": sum(layer[4] for layer in mine) / sum(layer[5] for layer in mine),
                "rmspe": float(np.sqrt(np.mean((ratios - 1) ** 2))),
                "configs": len(unique),
                "measured_ms": sum(layer[5] for layer in mine),
            }
        worst = sorted(
            {(layer[3], layer[2]): layer for layer in layers}.values(), key=lambda layer: -abs(layer[4] - layer[5])
        )[:WORST_LAYERS]
        results["families"][held] = {
            "per_op": per_op,
            "worst_layers": [
                {
                    "model": w[0],
                    "batch_size": w[1],
                    "op": w[2],
                    "config": _describe(w[3]),
                    "predicted_ms": w[4],
                    "measured_ms": w[5],
                    "covered_by": w[6],
                }
                for w in worst
            ],
        }
        lines += [
            f"**{held} held out**",
            "",
            "| op | configs | measured ms (all instances) | predicted / measured time | RMSPE over configs |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {op} | {e['configs']} | {e['measured_ms']:.2f} | {e['time_ratio']:.2f} | {e['rmspe']:.1%} |"
            for op, e in per_op.items()
        ]
        lines += ["", "Furthest off by time:", ""]
        lines += [
            f"- {w[0]} batch {w[1]}, {w[2]} ({_describe(w[3])}): predicted {w[4]:.3f} ms, measured "
            f"{w[5]:.3f} ms ({w[4] / w[5]:.2f}x)"
            for w in worst
        ]
        lines.append("")
    emit_markdown(results, "\n".join(lines) + "\n", args.out)


def _configs(name: str, batch: int) -> list[str]:
    """The config of every layer of `name` at `batch`, in the order of its prediction table (both trace it)."""
    from hwprof.predictor.records import network_layers

    records = network_layers(name, batch, None).records
    return [record.config for record in records]


if __name__ == "__main__":
    main()
