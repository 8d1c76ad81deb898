"""How well a network's own earlier measurement predicts it: the ceiling for a predictor's network error.

    python bench/rerun_ceiling.py --root bench/data/default_sweep_seeds --campaigns c2 c3 --threads t1 t2 \
        --fits bench/results/default_sweep_seeds --out bench/results/default_sweep_seeds/rerun_ceiling.json

Reads default runs laid out as bench/default_runs.py writes them, ROOT/CAMPAIGN/THREADS/SIDE/*.parquet (one
`hwprof measure MODEL` per file; a SIDE is any folder there: `before` and `after` of `--before`, measured
alternately, run by run, or `run1`, `run2` of `--repeat`; without `--threads`, ROOT/CAMPAIGN/SIDE). Every
(model, batch size) measured in two sides is a rerun: the error of taking one side's network latency as the
prediction of the other's, |other / one - 1|, averaged over the networks as a predictor's MAPE is, is what a
perfect predictor trained on the first run would score on the second. Pairs of one campaign were measured
minutes apart, pairs of two campaigns 30-60 minutes apart (a "campaign" may also be a way of measuring:
`p1` and `p3` of `default_runs.py --processes 3`), with the share of pairs whose 95% intervals overlap. Beside them, per side, the leave-one-family-out
MAPE of the predictor fitted on that side (bench/fit_accuracy.py's `held_out_predictions`, files
FITS/CAMPAIGN_THREADS_SIDE.json), which is scored against that side's own measurements; `--fit-sides`
picks the sides (default `after`: the network rows of both sides are measured alike, the sweeps not).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_io import emit_markdown  # noqa: E402
from run_spread import joined, network_rows, table_name  # noqa: E402


def side_networks(folder: Path) -> pd.DataFrame:
    """Network latency (ms) and its 95% interval, of every dataset in a side's folder, by (model, batch size)."""
    paths = sorted(p for p in folder.glob("*.parquet") if not p.name.endswith(".samples.parquet"))
    return pd.concat([network_rows(p) for p in paths])


def rerun_errors(one: pd.DataFrame, other: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """|other / one - 1| over the networks both measured, and whether their 95% intervals overlap."""
    both, overlap = joined(one, other)
    return np.abs(both["latency_ms_b"] / both["latency_ms_a"] - 1).to_numpy(), overlap.to_numpy()


def measure_wall_s(folder: Path) -> float:
    """Seconds from start to end of every run (every process of a --processes run) under `folder`."""
    total = 0.0
    for path in folder.rglob("*.parquet.json"):
        for run in json.loads(path.read_text())["runs"]:
            if "end_time" in run:  # a run still going (or killed) has none
                total += (
                    datetime.fromisoformat(run["end_time"]) - datetime.fromisoformat(run["start_time"])
                ).total_seconds()
    return total


def predictor_errors(path: Path) -> np.ndarray | None:
    if not path.exists():
        return None
    rows = json.loads(path.read_text())["held_out_predictions"]
    return np.array([abs(r["predicted_latency_ms"] / r["measured_latency_ms"] - 1) for r in rows])


def summary(errors: list[np.ndarray], overlaps: list[np.ndarray] | None = None) -> dict:
    """Mean of the per-pair (or per-fit) MAPEs, their range, the share within 10%, and of intervals overlapping."""
    mapes = [float(e.mean()) for e in errors]
    return {
        "pairs": len(errors),
        "mape_mean": float(np.mean(mapes)),
        "mape_min": float(np.min(mapes)),
        "mape_max": float(np.max(mapes)),
        "within_10pct": float(np.mean(np.concatenate(errors) <= 0.10)),
        **({"intervals_overlap": float(np.mean(np.concatenate(overlaps)))} if overlaps else {}),
    }


def cell(s: dict | None) -> str:
    if s is None:
        return "-"
    text = (
        f"{s['mape_mean']:.1%} ({s['mape_min']:.1%}–{s['mape_max']:.1%}) / {s['within_10pct']:.0%}"
        if s["pairs"] > 1
        else f"{s['mape_mean']:.1%} / {s['within_10pct']:.0%}"
    )
    return text + (f" / {s['intervals_overlap']:.0%}" if "intervals_overlap" in s else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--campaigns", nargs="+", required=True)
    parser.add_argument("--threads", nargs="+", default=[""], help="Thread folders, e.g. t1 t2 (default: none).")
    parser.add_argument("--fits", type=Path, help="Folder of fit_accuracy results named CAMPAIGN_THREADS_SIDE.json.")
    parser.add_argument(
        "--fit-sides", nargs="+", default=["after"], help="Sides whose fits are shown (default: after, today's code)."
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    missing = [
        str(args.root / campaign / threads)
        for campaign in args.campaigns
        for threads in args.threads
        if not (args.root / campaign / threads).is_dir()
    ]
    if missing:
        sys.exit(
            f"no such folder: {', '.join(missing)} (a campaign's data that the repository does not keep is measured anew)"
        )

    results = {"command": " ".join(["python", *sys.argv]), "threads": {}}
    lines = [
        "| threads | networks | predictor, leave one family out (fits of "
        + "+".join(args.fit_sides)
        + ") | rerun, same campaign: MAPE (range) / within 10% / 95% intervals overlap | rerun, other campaign | "
        "spread of one network over the runs: median / largest max÷min |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for threads in args.threads:
        sides = {
            (campaign, folder.name): side_networks(folder)
            for campaign in args.campaigns
            for folder in sorted((args.root / campaign / threads).iterdir())
            if folder.is_dir() and any(not p.name.endswith(".samples.parquet") for p in folder.glob("*.parquet"))
        }
        if len(sides) < 2:
            sys.exit(f"fewer than two sides with datasets under {args.root} for {threads or 'these campaigns'}")
        same, other = ([], []), ([], [])
        per_campaign = {campaign: ([], []) for campaign in args.campaigns}
        for a, b in itertools.permutations(sides, 2):  # both directions: |b/a - 1| is not symmetric
            errors, overlap = rerun_errors(sides[a], sides[b])
            for group in (same, per_campaign[a[0]]) if a[0] == b[0] else (other,):
                group[0].append(errors)
                group[1].append(overlap)
        fitted = [
            predictor_errors(args.fits / f"{c}_{threads}_{s}.json")
            for c, s in sides
            if args.fits and s in args.fit_sides
        ]
        fitted = [e for e in fitted if e is not None]
        table = pd.concat([side["latency_ms"] for side in sides.values()], axis=1, join="inner")
        spread = table.max(axis=1) / table.min(axis=1)
        widest = spread.idxmax()
        entry = {
            "sides": [f"{c}/{s}" for c, s in sides],
            "networks": int(len(table)),
            "predictor": summary(fitted) if fitted else None,
            "rerun_same_campaign": summary(*same) if same[0] else None,
            "rerun_other_campaign": summary(*other) if other[0] else None,
            "rerun_per_campaign": {
                campaign: {**summary(*pairs), "measure_wall_s": measure_wall_s(args.root / campaign / threads)}
                for campaign, pairs in per_campaign.items()
                if pairs[0]
            },
            "spread_median": float(spread.median()),
            "spread_largest": float(spread.max()),
            "spread_largest_at": f"{widest[0]} batch {widest[1]}",
            "latency_ms": {f"{m} batch {b}": [float(v) for v in row] for (m, b), row in table.iterrows()},
        }
        results["threads"][threads] = entry
        lines.append(
            f"| {threads or '-'} | {len(table)} | {cell(entry['predictor'])} | {cell(entry['rerun_same_campaign'])} | "
            f"{cell(entry['rerun_other_campaign'])} | {spread.median():.2f} / {spread.max():.2f} "
            f"({table_name(widest[0], 24)}) |"
        )
    lines += [
        "",
        "| threads | campaign | rerun within it: MAPE (range) / within 10% / 95% intervals overlap | measuring, all its runs (s) |",
        "|---|---|---:|---:|",
    ]
    for threads, entry in results["threads"].items():
        for campaign, s in entry["rerun_per_campaign"].items():
            lines.append(f"| {threads or '-'} | {campaign} | {cell(s)} | {s['measure_wall_s']:.0f} |")
    emit_markdown(results, "\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
