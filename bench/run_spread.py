"""How far apart separate `hwprof measure` runs of the same networks land, per allocator policy.

    python bench/run_spread.py

Reads the zoo runs in bench/data (see fit_measure_data.py): zoo_t1 and zoo_t1_networks_1 with glibc's
allocator as it was (`--allocator system`), zoo_steady and zoo_steady_networks_{1,2,3} with it pinned
(`--allocator steady`), and the four one-thread runs of the 100 NAS-Bench-201 cells (nb201_t1, pinned).
For every pair of runs of one set it reports, over their (network, batch size) rows, the median, 90th
percentile and largest ratio between the two runs' medians (larger over smaller), and the share of rows
whose two 95% intervals overlap. Whole runs, not intervals within one: this is the noise that no
interval within a run can show.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import DATA, NB201_ONE_THREAD_RUNS, STEADY_ZOO_RUNS  # noqa: E402
from results_io import emit_markdown  # noqa: E402

RUNS = {
    "system": ["zoo_t1.parquet", "zoo_t1_networks_1.parquet"],
    "steady": STEADY_ZOO_RUNS,
    "steady, NB-201 cells": NB201_ONE_THREAD_RUNS,
}


def network_rows(path: Path) -> pd.DataFrame:
    """A run's whole-network rows: median and 95% interval, by (model, batch size)."""
    frame = pd.read_parquet(path)
    columns = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high"]
    return frame[frame["kind"] == "network"].set_index(["model", "batch_size"])[columns]


def joined(one: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Two runs' network rows side by side (suffixes _a and _b) over the networks both measured, and whether
    their 95% intervals overlap."""
    both = one.add_suffix("_a").join(other.add_suffix("_b"), how="inner").dropna()
    overlap = (both["latency_ms_ci_low_a"] <= both["latency_ms_ci_high_b"]) & (
        both["latency_ms_ci_low_b"] <= both["latency_ms_ci_high_a"]
    )
    return both, overlap


def table_name(model: str, width: int) -> str:
    """A model's name for a Markdown cell: at most `width` characters, its '|' escaped (NB-201 names hold the
    table's separator)."""
    short = model if len(model) <= width else model[: width - 3] + "..."
    return short.replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(HERE / "results" / "run_spread.json"), help="results JSON (and .md beside it)"
    )
    args = parser.parse_args()
    results = {"command": " ".join(["python", *sys.argv]), "policies": {}}
    lines = [
        "| allocator | runs | pair | median ratio | p90 ratio | largest ratio | intervals overlap |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for policy, names in RUNS.items():
        runs = {name.removesuffix(".parquet"): network_rows(DATA / name) for name in names if (DATA / name).exists()}
        pairs = {}
        for a, b in itertools.combinations(runs, 2):
            both, overlap = joined(runs[a], runs[b])
            ratio = np.exp(np.abs(np.log(both["latency_ms_a"] / both["latency_ms_b"])))
            largest_at = ratio.idxmax()
            model = table_name(largest_at[0], 30)
            pairs[f"{a} / {b}"] = {
                "networks": int(len(ratio)),
                "median_ratio": float(ratio.median()),
                "p90_ratio": float(ratio.quantile(0.9)),
                "largest_ratio": float(ratio.max()),
                "largest_at": f"{largest_at[0]} batch {largest_at[1]}",
                "intervals_overlap": float(overlap.mean()),
            }
            lines.append(
                f"| {policy} | {len(runs)} | {a} / {b} | {ratio.median():.3f} | {ratio.quantile(0.9):.3f} | "
                f"{ratio.max():.2f} ({model} batch {largest_at[1]}) | {overlap.mean():.0%} |"
            )
        results["policies"][policy] = {"runs": list(runs), "pairs": pairs}
    emit_markdown(results, "\n".join(lines) + "\n", Path(args.out))


if __name__ == "__main__":
    main()
