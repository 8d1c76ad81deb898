"""Two separate runs of one model, in separate processes: how well do per-layer medians agree?

hwprof (`hwprof measure`, two processes) and, side by side in the same run, torch.utils.benchmark's
adaptive_autorange (two processes timing the same unique layer configurations to the same 2%
threshold), alternated A-B-A-B so slow changes of the machine hit both alike.
Reports the median and 90th percentile of |ratio - 1| over unique layer configurations
(matched by config_id). Targets for hwprof: <= 2% median, <= 5% p90.

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --out bench/results/reproducibility.json

hwprof times layers cold by default (each call reads its inputs and weights from memory, as in the
network) and adaptive_autorange warm (one tensor, over and over); `--cache warm` times hwprof's layers
warm too, like for like with the baseline.

With --processes N, the two sides are instead `hwprof measure --processes N` and `hwprof measure`
(one process) at the same total time budget per item: --max-time T for one process, T/N for each of
the N (both at the same --precision, so an item that meets it early stops early on either side; the
wall times are reported beside the figures so the budgets can be checked):

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --processes 4 \
        --out bench/results/reproducibility_processes.json

An equal budget is not an equal time: one process stops an item once it meets its precision, while N
workers each pay their own start-up and layer extraction. With --equal-wall-time the one-process side
gets the N-process side's wall time instead. Each pair then runs the N processes first (N-1-N-1, still
alternated), because the first N-process run calibrates the one-process side: that side measures at a
precision no item can meet (so every item runs to its cap, and its `stable_share` is near 0) with a
per-item --max-time chosen so that it takes the N-process run's wall time. Two one-process runs after
the first N-process run find that cap and are not counted in the figures: a short pilot for the
overhead, and a trial at a first cap, about as long as a run (calibrate_one_process). The same cap serves both one-process runs, so their
agreement compares like with like; the wall times of all four runs and their ratio per pair are
reported, and a pair more than 15% apart is said on stderr. Time lost to contention (up to an item's
cap once more) is not foreseen: run it on a quiet machine.

    python bench/measure_reproducibility.py --model resnet18 --threads 1 --processes 4 --equal-wall-time \
        --out bench/results/reproducibility_equal_wall.json

Each side's figures also come with its two runs' common shift (their median ratio: the machine as a whole faster
or slower in one run) and the agreement once it is taken out. `--keep D` keeps the runs' datasets in D;
`--from-kept D --out F` computes the figures again from them into F, adding each worker's speed against the
others (`process_speeds`) where the samples sidecars are kept.
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

from hwprof.measuring.runner import Method

UNREACHABLE_PRECISION = 1e-9  # no item's interval gets this narrow: each one runs to its --max-time
PILOT_CAP_S = 0.01  # per item in the pilot that finds one process's overhead: a cold call and little more
WALL_TOLERANCE = 0.15  # how far apart a pair's wall times may be and still count as equal


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
            "--sweep-share",
            "0",  # the model's own layers only: a time-bounded sweep would differ between runs
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
        "items_measure_s": float(timed_items(frame)["measure_s"].sum()),
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


def timed_items(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item the runner timed: a layer configuration (its instances share it) or a network."""
    layers = frame[frame["kind"] == "layer"].drop_duplicates("config_id")
    return pd.concat([layers, frame[frame["kind"] != "layer"]], ignore_index=True)


def equal_wall_cap_s(item_caps_s: list[float], measuring_s: float) -> tuple[float, bool]:
    """The per-item --max-time T at which items that each stop at T, or earlier at their own cap c (max
    samples taken), spend `measuring_s` in all: sum(min(T, c)) = measuring_s. (T, whether it exists.)"""
    caps, measuring_s = sorted(float(cap) for cap in item_caps_s), float(measuring_s)
    if measuring_s <= 0 or not caps:
        return 0.0, False
    spent_by_capped = 0.0
    for k, cap in enumerate(caps):
        level = (measuring_s - spent_by_capped) / (len(caps) - k)  # the items from k on, all stopped at T
        if level <= cap:
            return level, True
        spent_by_capped += cap
    return caps[-1], False  # every item takes its max samples sooner: the time cannot be spent


def natural_stops_s(frame: pd.DataFrame) -> list[float]:
    """How long one process would time each item of an N-process run (its `frame`) under an unreachable
    precision, if no cap stopped it first: until max_samples samples (latency_ms times the calibrated
    iterations each), plus its warm-up, taken as what one worker spent on it besides its kept samples, at
    most max_warmup_s (measure_s also holds the time lost to contention)."""
    items = timed_items(frame)
    sample_s = items["latency_ms"].astype(float) * items["iterations"].astype(float) / 1e3
    processes = items["processes"].astype(float).clip(lower=1)
    besides_samples_s = (items["measure_s"].astype(float) - items["samples"] * sample_s) / processes
    return [float(stop) for stop in Method.max_samples * sample_s + besides_samples_s.clip(0, Method.max_warmup_s)]


def one_process_options(cap_s: float) -> list[str]:
    return ["--processes", "1", "--max-time", repr(float(cap_s)), "--precision", repr(UNREACHABLE_PRECISION)]


def calibrate_one_process(model: str, many_out: Path, threads: int | None, wall_s: float) -> dict:
    """The per-item cap at which one process takes `wall_s`, the wall time of the N-process run in `many_out`.

    A pilot that times every item for an instant gives one process's overhead (start-up, extraction,
    writing: its wall time less its items'); a trial at the cap that would fill the rest with timing gives
    how much longer the items really take than their caps allow (the runner's own work on every sample,
    which grows with their number); the cap is then set again for that."""
    stops = natural_stops_s(pd.read_parquet(many_out))
    _, pilot = run_hwprof(model, many_out.with_name("pilot.out"), threads, one_process_options(PILOT_CAP_S))
    overhead_s = pilot["wall_s"] - pilot["items_measure_s"]
    trial_cap_s, _ = equal_wall_cap_s(stops, wall_s - overhead_s)
    _, trial = run_hwprof(model, many_out.with_name("trial.out"), threads, one_process_options(trial_cap_s))
    scale = (trial["wall_s"] - overhead_s) / sum(min(trial_cap_s, stop) for stop in stops)
    cap_s, reachable = equal_wall_cap_s(stops, (wall_s - overhead_s) / scale)
    if not reachable:  # the stops are estimates: a cap well above them lets every item take all its samples
        cap_s = 2 * max(stops)
    return {
        "target_wall_s": wall_s,
        "items": len(stops),
        "one_process_overhead_s": overhead_s,
        "trial": {"max_time_s": trial_cap_s, "wall_s": trial["wall_s"], "wall_over_caps": scale},
        "max_time_s": cap_s,
        "precision": UNREACHABLE_PRECISION,
        "reachable": reachable,
    }


def equal_wall_time_arms(processes: int, max_time_s: float, precision: float | None) -> tuple[dict, dict]:
    """The two sides at equal wall time, N processes first; and the calibration, filled after their first run."""
    common = ["--precision", str(precision)] if precision else []
    calibration: dict = {}

    def many(model, out, threads):
        options = ["--processes", str(processes), "--max-time", str(max_time_s / processes), *common]
        series, details = run_hwprof(model, out, threads, options)
        if not calibration:
            calibration.update(calibrate_one_process(model, out, threads, details["wall_s"]))
            if not calibration["reachable"]:
                print(
                    f"one process cannot spend {calibration['target_wall_s']:.1f} s: every item takes its "
                    f"{Method.max_samples} samples sooner, by the estimate, so its side may run shorter",
                    file=sys.stderr,
                )
        return series, details

    def one(model, out, threads):
        return run_hwprof(model, out, threads, one_process_options(calibration["max_time_s"]))

    return {f"processes_{processes}": many, "processes_1": one}, calibration


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
    """|ratio - 1| of the two runs' medians over the configurations both have; and the same once the runs' common
    shift (their median ratio: the whole machine faster or slower in one run) is taken out, which tells a
    machine that changed speed between the runs from layers that moved each their own way."""
    common = a.index.intersection(b.index)
    ratio = (a[common] / b[common]).to_numpy()
    deviation = np.abs(ratio - 1)
    shift = float(np.median(ratio))
    beside_shift = np.abs(ratio / shift - 1)
    return {
        "configs": int(len(common)),
        "median_abs_dev": float(np.median(deviation)),
        "p90_abs_dev": float(np.percentile(deviation, 90)),
        "max_abs_dev": float(deviation.max()),
        "common_shift": shift - 1,
        "median_abs_dev_beside_shift": float(np.median(beside_shift)),
        "p90_abs_dev_beside_shift": float(np.percentile(beside_shift, 90)),
    }


def agreement_from_kept(folder: Path, out: str | None) -> None:
    """Each side's agreement between its kept runs a and b, written into `out`'s JSON (a run's, whose walls and
    calibration it keeps) or printed."""
    result = json.loads(Path(out).read_text()) if out and Path(out).exists() else {}
    for first in sorted(folder.glob("*_a.out")):
        side = first.name.removesuffix("_a.out")
        a, b = (pd.read_parquet(folder / f"{side}_{attempt}.out") for attempt in "ab")
        medians = [frame[frame["kind"] == "layer"].groupby("config_id")["latency_ms"].first() for frame in (a, b)]
        result.setdefault(side, {}).update(agreement(*medians))
        speeds = [process_speeds(folder / f"{side}_{attempt}.out.samples.parquet") for attempt in "ab"]
        if all(speeds):
            result[side]["process_speeds"] = speeds
    emit(result, out)


def process_speeds(samples_file: Path) -> list[float] | None:
    """Each worker's latencies over the run's, as one factor: the median over layer configurations of its median
    over the median of all workers' medians (1.1: that process ran every layer about 10% slower). None for a run
    in one process."""
    if not samples_file.exists():
        return None
    samples = pd.read_parquet(samples_file)
    samples = samples[~samples["key"].str.startswith("network") & samples["process"].notna()]
    if samples.empty:
        return None
    medians = samples.groupby(["key", "process"])["seconds_per_call"].median().unstack()
    logs = np.log(medians.dropna())
    return [float(v) for v in np.exp(logs.sub(logs.median(axis=1), axis=0).median())]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-baseline", action="store_true", help="skip the adaptive_autorange runs")
    parser.add_argument("--processes", type=int, default=None, help="compare measure --processes N with one process")
    parser.add_argument("--max-time", type=float, default=10.0, help="total budget per item, with --processes")
    parser.add_argument("--precision", type=float, default=None, help="measure --precision, with --processes")
    parser.add_argument(
        "--equal-wall-time",
        action="store_true",
        help="with --processes: give the one-process side the N-process side's wall time, not its budget",
    )
    parser.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cache", choices=("cold", "warm"), default=None, help="measure --cache (default: measure's)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--keep", default=None, help="a folder to keep every run's dataset in (default: not kept)")
    parser.add_argument(
        "--from-kept", default=None, help="a --keep folder: its sides' agreement again (into --out's JSON, if given)"
    )
    args = parser.parse_args()
    if args.from_kept:
        agreement_from_kept(Path(args.from_kept), args.out)
        return
    if args.torch_worker:
        torch_worker(args.model, Path(args.torch_worker), args.threads)
        return
    if args.cache and args.processes:
        parser.error("--cache is for the comparison with adaptive_autorange; --processes runs measure's default")
    if args.equal_wall_time and not (args.processes and args.processes > 1):
        parser.error("--equal-wall-time compares --processes N (N above 1) with one process; give --processes")
    calibration = None
    if args.equal_wall_time:
        runs, calibration = equal_wall_time_arms(args.processes, args.max_time, args.precision)
    elif args.processes:
        runs = process_arms(args.processes, args.max_time, args.precision)
    elif args.no_baseline:
        runs = {"hwprof": run_hwprof}
    else:
        runs = {"hwprof": run_hwprof, "adaptive_autorange": run_torch}
    if args.cache:
        runs["hwprof"] = lambda model, out, threads: run_hwprof(model, out, threads, ["--cache", args.cache])
    medians = {name: [] for name in runs}
    info = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for attempt in ("a", "b"):
            for name, run in runs.items():
                series, details = run(args.model, folder / f"{name}_{attempt}.out", args.threads)
                medians[name].append(series)
                info[name].append(details)
    result = {"model": args.model, "threads": args.threads, "cache": args.cache or "measure's default (cold)"}
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
    if calibration is not None:
        ratios = [m["wall_s"] / o["wall_s"] for m, o in zip(many["runs"], one["runs"])]
        result["equal_wall_time"] = {
            **calibration,
            "wall_ratio_many_over_one_per_pair": ratios,
            "equal_within_tolerance": all(abs(ratio - 1) <= WALL_TOLERANCE for ratio in ratios),
        }
        walls = ", ".join(f"{m['wall_s']:.1f} s / {o['wall_s']:.1f} s" for m, o in zip(many["runs"], one["runs"]))
        print(f"wall time per pair, {args.processes} processes / one process: {walls}", file=sys.stderr)
        if not result["equal_wall_time"]["equal_within_tolerance"]:
            print(f"the two sides' wall times differ by more than {WALL_TOLERANCE:.0%} in a pair", file=sys.stderr)
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
