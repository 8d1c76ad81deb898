"""Two separate runs of one model, in separate processes: how well do per-layer medians agree?

hwprof (`hwprof measure`, two processes) and, side by side in the same run, torch.utils.benchmark's
adaptive_autorange (two processes timing the same unique layer configurations to the same 2%
threshold), alternated A-B-A-B so slow changes of the machine hit both alike.
Reports the median and 90th percentile of |ratio - 1| over unique layer configurations
(matched by config_id). Targets for hwprof: <= 2% median, <= 5% p90.

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --out bench/results/reproducibility.json

With --processes N, the two sides are instead `hwprof measure --processes N` and `hwprof measure`
(one process) at the same total time budget per item: --max-time T for one process, T/N for each of
the N (both at the same --precision, so an item that meets it early stops early on either side; the
wall times are reported beside the figures so the budgets can be checked):

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --processes 4 \
        --out bench/results/reproducibility_processes.json
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


def run_hwprof(model: str, out: Path, threads: int | None, options: list[str] = ()) -> tuple[pd.Series, dict]:
    extra = ["--threads", str(threads)] if threads else []
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hwprof",
            "measure",
            model,
            "--out",
            str(out),
            "--quiet",
            "--power",
            "none",
            *extra,
            *options,
        ],
        check=True,
    )
    wall = time.perf_counter() - start
    frame = pd.read_parquet(out)
    layers = frame[frame["kind"] == "layer"]
    details = {
        "wall_s": wall,
        "mean_other_cpu_share": float(frame["other_cpu_share"].mean()),
        "stable_share": float(frame["stable"].astype(bool).mean()),
    }
    if "discarded_bursts" in frame:
        details["discarded_bursts"] = int(frame.drop_duplicates("config_id")["discarded_bursts"].fillna(0).sum())
    return layers.groupby("config_id")["latency_ms"].first(), details


def process_arms(processes: int, max_time_s: float, precision: float | None) -> dict:
    """The two sides of --processes: one process with the whole budget, N with a share each."""
    common = ["--precision", str(precision)] if precision else []

    def arm(count: int):
        options = ["--processes", str(count), "--max-time", str(max_time_s / count), *common]
        return lambda model, out, threads: run_hwprof(model, out, threads, options)

    return {"processes_1": arm(1), f"processes_{processes}": arm(processes)}


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
    parser.add_argument("--processes", type=int, default=None, help="compare measure --processes N with one process")
    parser.add_argument("--max-time", type=float, default=10.0, help="total budget per item, with --processes")
    parser.add_argument("--precision", type=float, default=None, help="measure --precision, with --processes")
    parser.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.torch_worker:
        torch_worker(args.model, Path(args.torch_worker), args.threads)
        return
    if args.processes:
        runs = process_arms(args.processes, args.max_time, args.precision)
    elif args.no_baseline:
        runs = {"hwprof": run_hwprof}
    else:
        runs = {"hwprof": run_hwprof, "adaptive_autorange": run_torch}
    medians = {name: [] for name in runs}
    info = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in ("a", "b"):
            for name, run in runs.items():
                series, details = run(args.model, Path(tmp) / f"{name}_{attempt}.out", args.threads)
                medians[name].append(series)
                info[name].append(details)
    result = {"model": args.model, "threads": args.threads}
    if args.processes:
        result.update(processes=args.processes, total_max_time_s=args.max_time, precision=args.precision)
    for name in runs:
        result[name] = {"runs": info[name], **agreement(*medians[name])}
    if args.processes:
        one, many = result["processes_1"], result[f"processes_{args.processes}"]
        result["median_abs_dev_ratio_many_over_one"] = many["median_abs_dev"] / one["median_abs_dev"]
        result["p90_abs_dev_ratio_many_over_one"] = many["p90_abs_dev"] / one["p90_abs_dev"]
        result["wall_ratio_many_over_one"] = sum(r["wall_s"] for r in many["runs"]) / sum(
            r["wall_s"] for r in one["runs"]
        )
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
