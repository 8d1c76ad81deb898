"""Per-iteration overhead of hwprof's timing loop, on no-op layers.

A no-op Python callable and a torch nn.Identity layer are timed by hwprof's runner; the same
callables timed by timeit's bare loop in the same run give the reference, as a ratio of medians.

    python bench/harness_overhead.py --out bench/results/overhead.json
"""

import argparse
import statistics
import timeit

import torch
import torch.nn as nn
from results_io import emit

from hwprof.measuring.runner import Item, Method, Runner


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    identity, x = nn.Identity(), torch.zeros(1)
    callables = {"python_noop": lambda: None, "torch_identity_layer": lambda: identity(x)}
    result = {}
    with torch.inference_mode():
        for name, fn in callables.items():
            (measured,) = Runner(Method(precision=0.01, seed=0)).measure([Item(name, fn)])
            bare = statistics.median(timeit.repeat(fn, number=100_000, repeat=15)) / 100_000
            result[name] = {
                "hwprof_ns_per_call": measured.summary.median * 1e9,
                "hwprof_ci_ns": [measured.summary.ci_low * 1e9, measured.summary.ci_high * 1e9],
                "timeit_median_ns_per_call": bare * 1e9,
                "ratio_hwprof_over_timeit": measured.summary.median / bare,
            }
    emit(result, args.out)


if __name__ == "__main__":
    main()
