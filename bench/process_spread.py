"""How much does this machine alone move a timing between processes? No hwprof measurement involved.

Times one 64-channel 3x3 convolution (batch 1, 56x56, one thread) with a bare perf_counter loop in
several fresh processes, and reports each process's median and the spread of its 40 samples.
A spread between processes that a bare loop shows too is the floor under any timer's reproducibility.
With `--model MODEL` (any name `hwprof measure` takes; hwprof only builds it) the loop times that
network's forward pass at batch 1 for 2 s instead, at `--threads` (default 1), and counts the processes
whose median is 1.5x the fastest process's or more.

    python bench/process_spread.py --processes 4 --out bench/results/process_spread.json
    python bench/process_spread.py --model vit_tiny --threads 2 --processes 12
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from results_io import emit


def worker(samples: int = 40, loops: int = 5) -> dict:
    import torch

    torch.set_num_threads(1)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval()
    x = torch.randn(1, 64, 56, 56)
    times_ms = []
    with torch.inference_mode():
        for _ in range(20):
            conv(x)
        for _ in range(samples):
            start = time.perf_counter()
            for _ in range(loops):
                conv(x)
            times_ms.append((time.perf_counter() - start) / loops * 1e3)
    return {"median_ms": statistics.median(times_ms), "min_ms": min(times_ms), "max_ms": max(times_ms)}


def network_worker(model: str, threads: int, seconds: float = 2.0) -> dict:
    import torch

    from hwprof.models.spec import resolve_model

    torch.set_num_threads(threads)
    spec = resolve_model(model)
    module = spec.module.eval()
    x = torch.randn(1, *spec.input_shape)
    times_ms = []
    with torch.inference_mode():
        for _ in range(20):
            module(x)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            module(x)
            times_ms.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": statistics.median(times_ms), "min_ms": min(times_ms), "max_ms": max(times_ms)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--model", help="time this network's forward pass instead of the convolution")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(network_worker(args.model, args.threads) if args.model else worker()))
        return
    if not args.model and args.threads != 1:
        parser.error("the convolution is timed at one thread; --threads goes with --model")
    command = [sys.executable, __file__, "--worker", *(["--model", args.model] if args.model else [])]
    command += ["--threads", str(args.threads)]
    runs = [
        json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        for _ in range(args.processes)
    ]
    medians = [r["median_ms"] for r in runs]
    emit(
        {
            "command": " ".join(["python", *sys.argv]),
            "model": args.model or "conv2d 64->64 3x3 at 56x56",
            "threads": args.threads,
            "processes": runs,
            "median_ms_range": [min(medians), max(medians)],
            "max_over_min_median": max(medians) / min(medians),
            "processes_1_5x_the_fastest": sum(m >= 1.5 * min(medians) for m in medians),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
