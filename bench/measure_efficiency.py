"""hwprof's runner against torch.utils.benchmark's adaptive_autorange, on the same layers, same run.

Both time every unique layer configuration of a model to the same relative threshold (2%).
Each method runs twice (alternating, ABAB) so its own reproducibility — median |ratio - 1| of
per-layer medians between its two passes — is reported beside its wall time.
Target: hwprof takes <= 0.5x the time, with reproducibility equal or better.

    python bench/measure_efficiency.py --model resnet18 --out bench/results/efficiency.json
"""

import argparse
import time

import numpy as np
import torch
import torch.utils.benchmark as benchmark
from results_io import emit

from hwprof.measuring.runner import Item, Method, Runner
from hwprof.models.layers import extract_layers
from hwprof.models.spec import resolve_model


def unique_layers(model: str, batch_size: int):
    spec = resolve_model(model)
    layers, _ = extract_layers(spec.module, spec.input_shape, batch_size)
    unique = {}
    for layer in layers:
        unique.setdefault(layer.config_id("cpu"), layer)
    return unique


OTHER_CPU_SHARES: list[float] = []  # per hwprof pass: how busy the rest of the machine was


def run_hwprof(layers: dict, precision: float, seed: int) -> tuple[dict, float]:
    items = [Item(key, layer.call.bind("cpu")) for key, layer in layers.items()]
    start = time.perf_counter()
    results = Runner(Method(precision=precision, seed=seed)).measure(items)
    wall = time.perf_counter() - start
    shares = [r.other_cpu_share for r in results if r.other_cpu_share is not None]
    OTHER_CPU_SHARES.append(sum(shares) / len(shares))
    return {r.key: r.summary.median for r in results}, wall


def run_torch(layers: dict, threshold: float) -> tuple[dict, float]:
    medians = {}
    start = time.perf_counter()
    for key, layer in layers.items():
        fn = layer.call.bind("cpu")
        timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
        medians[key] = timer.adaptive_autorange(threshold=threshold).median
    return medians, time.perf_counter() - start


def reproducibility(first: dict, second: dict) -> float:
    return float(np.median([abs(first[k] / second[k] - 1) for k in first]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--precision", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    layers = unique_layers(args.model, args.batch_size)
    with torch.inference_mode():
        hw_a, hw_a_s = run_hwprof(layers, args.precision, seed=1)
        tb_a, tb_a_s = run_torch(layers, args.precision)
        hw_b, hw_b_s = run_hwprof(layers, args.precision, seed=2)
        tb_b, tb_b_s = run_torch(layers, args.precision)
    hwprof_s, torch_s = (hw_a_s + hw_b_s) / 2, (tb_a_s + tb_b_s) / 2
    result = {
        "model": args.model,
        "batch_size": args.batch_size,
        "unique_layers": len(layers),
        "threshold": args.precision,
        "threads": torch.get_num_threads(),
        "hwprof_wall_s": [hw_a_s, hw_b_s],
        "adaptive_autorange_wall_s": [tb_a_s, tb_b_s],
        "time_ratio_hwprof_over_torch": hwprof_s / torch_s,
        "hwprof_reproducibility_median_abs_dev": reproducibility(hw_a, hw_b),
        "torch_reproducibility_median_abs_dev": reproducibility(tb_a, tb_b),
        "median_agreement_hwprof_vs_torch": reproducibility(hw_a, tb_a),
        "mean_other_cpu_share_during_hwprof_passes": OTHER_CPU_SHARES,
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
