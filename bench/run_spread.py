"""How far apart separate `hwprof measure` runs of the same networks land, per allocator policy.

    python bench/run_spread.py

Reads the zoo runs in bench/data (see fit_measure_data.py): zoo_t1 and zoo_t1_networks_1 with glibc's
allocator as it was (`--allocator system`), zoo_steady and zoo_steady_networks_{1,2,3} with it pinned
(`--allocator steady`). For every pair of runs of one policy it reports, over the 30 (network, batch
size) rows, the median and largest ratio between the two runs' medians (larger over smaller). Whole
runs, not intervals within one: this is the noise that no interval within a run can show.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import DATA, STEADY_ZOO_RUNS  # noqa: E402
from results_io import emit_markdown  # noqa: E402

RUNS = {
    "system": ["zoo_t1.parquet", "zoo_t1_networks_1.parquet"],
    "steady": STEADY_ZOO_RUNS,
}


def network_latency(path: Path) -> pd.Series:
    frame = pd.read_parquet(path)
    return frame[frame["kind"] == "network"].set_index(["model", "batch_size"])["latency_ms"]


def main() -> None:
    results = {"command": " ".join(["python", *sys.argv]), "policies": {}}
    lines = ["| allocator | runs | pair | median ratio | largest ratio |", "|---|---:|---|---:|---:|"]
    for policy, names in RUNS.items():
        runs = {name.removesuffix(".parquet"): network_latency(DATA / name) for name in names if (DATA / name).exists()}
        table = pd.DataFrame(runs)
        pairs = {}
        for a, b in itertools.combinations(table.columns, 2):
            ratio = np.exp(np.abs(np.log(table[a] / table[b]))).dropna()
            pairs[f"{a} / {b}"] = {
                "networks": int(len(ratio)),
                "median_ratio": float(ratio.median()),
                "largest_ratio": float(ratio.max()),
                "largest_at": " batch ".join(map(str, ratio.idxmax())),
            }
            lines.append(
                f"| {policy} | {len(table.columns)} | {a} / {b} | {ratio.median():.3f} | "
                f"{ratio.max():.2f} ({pairs[f'{a} / {b}']['largest_at']}) |"
            )
        results["policies"][policy] = {"runs": list(table.columns), "pairs": pairs}
    emit_markdown(results, "\n".join(lines) + "\n", HERE / "results" / "run_spread.json")


if __name__ == "__main__":
    main()
