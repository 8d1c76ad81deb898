"""Few networks on one board: how a fit on 3-5 default runs predicts the board's other networks.

    python bench/fit_small_sample.py --data bench/data/default_amd/t2 [--draws 10] [--before REV]

For N in 3, 4, 5 and 8: draw N of the folder's datasets at random (one `hwprof measure` per model, as
a user collects by default), fit them as `hwprof fit` does (cross-validated, for the intervals), and
predict every other network of the folder at its measured batch size with a 90% interval. Reported per
N over all draws: MAPE, median error, share within ±10%, the worst draw's MAPE, the share of networks
inside their interval and the median interval width (high / low). With `--before REV`, that checkout
fits the same draws in a process of its own, side by side: the ratio column is now / before.

Accuracy only: the timings of the fits are not compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from default_runs import checkout  # noqa: E402
from results_io import emit_markdown  # noqa: E402

SIZES = (3, 4, 5, 8)
CONFIDENCE = 0.9


def datasets(folder: str) -> list[str]:
    return sorted(str(p) for p in Path(folder).glob("*.parquet") if not p.name.endswith(".samples.parquet"))


def score(files: list[str], draws: int, seed: int) -> dict:
    """Per N, draw by draw, every held-out network's (relative error, inside its interval, interval width)."""
    import pandas as pd

    import hwprof
    from hwprof.progress import Notes

    measured = {}
    for path in files:
        table = pd.read_parquet(path)
        row = table[table["kind"] == "network"].iloc[0]
        measured[path] = (str(row["model"]), int(row["batch_size"]), float(row["latency_ms"]))
    rng = np.random.default_rng(seed)
    errors: dict[str, list[list[tuple]]] = {}
    for size in SIZES:
        for _ in range(draws):
            train = sorted(rng.choice(files, size, replace=False).tolist())
            predictor = hwprof.fit(train, progress=Notes(lambda _: None))
            draw = []
            for path in files:
                if path in train:
                    continue
                model, batch, latency = measured[path]
                prediction = predictor.predict(model, batch_size=batch, confidence=CONFIDENCE)
                predicted = prediction.total["latency_ms"]
                low, high = (prediction.interval or {}).get("latency_ms", (float("nan"),) * 2)
                draw.append((abs(predicted - latency) / latency, bool(low <= latency <= high), high / low))
            errors.setdefault(str(size), []).append(draw)
    return errors


def summary(draws: list[list[tuple]]) -> dict:
    errors, inside, width = (np.array(column, dtype=float) for column in zip(*[p for d in draws for p in d]))
    return {
        "mape": float(errors.mean()),
        "median": float(np.median(errors)),
        "within_10pct": float(np.mean(errors <= 0.10)),
        "worst_draw_mape": float(max(np.mean([p[0] for p in d]) for d in draws)),
        "coverage_90": float(inside.mean()),
        "median_interval_width": float(np.nanmedian(width)),  # high / low; inf where unbounded
        "predictions": int(errors.size),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="A folder of default runs, one dataset per model.")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", help="A revision whose fit scores the same draws, side by side.")
    parser.add_argument("--out", default=str(HERE / "results" / "fit_small_sample.json"))
    parser.add_argument("--side-json", help=argparse.SUPPRESS)  # one side's errors, for --before's own process
    args = parser.parse_args()
    files = datasets(args.data)
    if len(files) <= max(SIZES):
        parser.error(f"{args.data} holds {len(files)} datasets; give a folder of more than {max(SIZES)}")
    if args.side_json:
        Path(args.side_json).write_text(json.dumps(score(files, args.draws, args.seed)))
        return
    sides = {"now": score(files, args.draws, args.seed)}
    if args.before:
        with checkout(args.before) as tree, tempfile.TemporaryDirectory() as folder:
            side = Path(folder) / "before.json"
            command = [sys.executable, str(Path(__file__).resolve()), "--data", str(Path(args.data).resolve())]
            command += ["--draws", str(args.draws), "--seed", str(args.seed), "--side-json", str(side)]
            subprocess.run(command, check=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
            sides = {"before": json.loads(side.read_text()), **sides}
    result = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": args.data,
        "datasets": len(files),
        "draws": args.draws,
        "seed": args.seed,
        "before": args.before,
        "summary": {side: {size: summary(d) for size, d in errors.items()} for side, errors in sides.items()},
    }
    lines = [
        f"`{result['command']}` ({result['date']}; {len(files)} datasets, {args.draws} draws per N)",
        "",
        "| N | side | MAPE | median error | within ±10% | worst draw's MAPE | inside 90% interval | median width |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in map(str, SIZES):
        for side in sides:
            s = result["summary"][side][size]
            lines.append(
                f"| {size} | {side} | {s['mape']:.1%} | {s['median']:.1%} | {s['within_10pct']:.0%} "
                f"| {s['worst_draw_mape']:.1%} | {s['coverage_90']:.0%} | {s['median_interval_width']:.2f}x |"
            )
        if "before" in sides:
            now, before = result["summary"]["now"][size], result["summary"]["before"][size]
            lines.append(f"| {size} | now / before | {now['mape'] / before['mape']:.2f} | | | | | |")
    emit_markdown(result, "\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
