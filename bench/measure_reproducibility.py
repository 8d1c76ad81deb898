"""Two separate runs of one model, in separate processes: how well do per-layer medians agree?

hwprof (`hwprof measure`, two processes) and, side by side in the same run, torch.utils.benchmark's
adaptive_autorange (two processes timing the same unique layer configurations to the same 2%
threshold), alternated A-B-A-B so slow changes of the machine hit both alike.
Reports the median and 90th percentile of |ratio - 1| over unique layer configurations
(matched by config_id). Targets for hwprof: <= 2% median, <= 5% p90.

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --out bench/results/reproducibility.json
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from results_io import emit


def run_hwprof(model: str, out: Path, threads: int | None) -> tuple[pd.Series, dict]:
    extra = ["--threads", str(threads)] if threads else []
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hwprof", "measure", model, "--out", str(out), "--quiet", "--power", "none", *extra],
        check=True,
    )
    wall = time.perf_counter() - start
    frame = pd.read_parquet(out)
    layers = frame[frame["kind"] == "layer"]
    return layers.groupby("config_id")["latency_ms"].first(), {
        "wall_s": wall,
        "mean_other_cpu_share": float(frame["other_cpu_share"].mean()),
        "stable_share": float(frame["stable"].astype(bool).mean()),
    }


def run_torch(model: str, out: Path, threads: int | None) -> tuple[pd.Series, dict]:
    """adaptive_autorange in a fresh process (the --torch-worker mode of this script)."""
    extra = ["--threads", str(threads)] if threads else []
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--model", model, "--torch-worker", str(out), *extra], check=True)
    wall = time.perf_counter() - start
    medians = json.loads(out.read_text())
    return pd.Series(medians, dtype=float) * 1e3, {"wall_s": wall}


def torch_worker(model: str, out: Path, threads: int | None, threshold: float = 0.02) -> None:
    """The efficiency bench's adaptive_autorange pass, in this process, medians written to `out`."""
    import torch
    from measure_efficiency import run_torch, unique_layers

    if threads:
        torch.set_num_threads(threads)
    with torch.inference_mode():
        medians, _ = run_torch(unique_layers(model, 1), threshold)
    out.write_text(json.dumps(medians))


def agreement(a: pd.Series, b: pd.Series) -> dict:
    common = a.index.intersection(b.index)
    deviation = (a[common] / b[common] - 1).abs().to_numpy()
    return {
        "configs": int(len(common)),
        "median_abs_dev": float(np.median(deviation)),
        "p90_abs_dev": float(np.percentile(deviation, 90)),
        "max_abs_dev": float(deviation.max()),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-baseline", action="store_true", help="skip the adaptive_autorange runs")
    parser.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.torch_worker:
        torch_worker(args.model, Path(args.torch_worker), args.threads)
        return
    runs = {"hwprof": run_hwprof} if args.no_baseline else {"hwprof": run_hwprof, "adaptive_autorange": run_torch}
    medians = {name: [] for name in runs}
    info = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in ("a", "b"):
            for name, run in runs.items():
                series, details = run(args.model, Path(tmp) / f"{name}_{attempt}.out", args.threads)
                medians[name].append(series)
                info[name].append(details)
    result = {"model": args.model, "threads": args.threads}
    for name in runs:
        result[name] = {"runs": info[name], **agreement(*medians[name])}
    if "adaptive_autorange" in runs:
        result["median_abs_dev_ratio_hwprof_over_torch"] = (
            result["hwprof"]["median_abs_dev"] / result["adaptive_autorange"]["median_abs_dev"]
        )
        result["wall_ratio_hwprof_over_torch"] = sum(r["wall_s"] for r in info["hwprof"]) / sum(
            r["wall_s"] for r in info["adaptive_autorange"]
        )
        result["median_agreement_hwprof_vs_torch"] = agreement(medians["hwprof"][0], medians["adaptive_autorange"][0])[
            "median_abs_dev"
        ]
    emit(result, args.out)


if __name__ == "__main__":
    main()
