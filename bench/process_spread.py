"""How much does this machine alone move a timing between processes? No hwprof involved.

Times one 64-channel 3x3 convolution (batch 1, 56x56, one thread) with a bare perf_counter loop in
several fresh processes, and reports each process's median and the spread of its 40 samples.
A spread between processes that a bare loop shows too is the floor under any timer's reproducibility.

    python bench/process_spread.py --processes 4 --out bench/results/process_spread.json
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker()))
        return
    runs = [
        json.loads(
            subprocess.run([sys.executable, __file__, "--worker"], check=True, capture_output=True, text=True).stdout
        )
        for _ in range(args.processes)
    ]
    medians = [r["median_ms"] for r in runs]
    emit(
        {
            "processes": runs,
            "median_ms_range": [min(medians), max(medians)],
            "max_over_min_median": max(medians) / min(medians),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
