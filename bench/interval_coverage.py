"""How often a row's 95% interval of the median covers the true median, at a fixed sample count and when the
runner stops at its precision (the stop rule of hwprof.measuring.runner: bursts, a minimum of samples, the
interval's relative half-width against --precision), on lognormal samples with a known median of 1.

    python bench/interval_coverage.py [--trials 2000] [--out bench/results/interval_coverage.json]

Counts, not timings: the machine's load does not matter."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hwprof.measuring.runner import Method
from hwprof.measuring.stats import summarize

SPREADS = (0.03, 0.05, 0.10)  # sigma of the log samples
FIXED_COUNTS = (10, 20, 64, 200)


def fixed(rng: np.random.Generator, sigma: float, count: int, trials: int) -> float:
    covered = bounded = 0
    for _ in range(trials):
        summary = summarize(list(rng.lognormal(0.0, sigma, count)))
        if summary.bounded:
            bounded += 1
            covered += summary.ci_low <= 1.0 <= summary.ci_high
    return covered / max(bounded, 1)


def sequential(rng: np.random.Generator, sigma: float, trials: int, method: Method) -> dict:
    covered, counts = 0, []
    for _ in range(trials):
        samples: list[float] = []
        while True:
            samples += list(rng.lognormal(0.0, sigma, method.burst))
            summary = summarize(samples)
            met = len(samples) >= method.min_samples and summary.relative_half_width <= method.precision
            if met or len(samples) >= method.max_samples:
                break
        counts.append(len(samples))
        covered += summary.ci_low <= 1.0 <= summary.ci_high
    return {"coverage": covered / trials, "mean_samples": float(np.mean(counts))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng, method = np.random.default_rng(args.seed), Method()
    results = []
    for sigma in SPREADS:
        entry = {"sigma": sigma, "fixed": {n: fixed(rng, sigma, n, args.trials) for n in FIXED_COUNTS}}
        entry["at_precision"] = sequential(rng, sigma, args.trials, method)
        results.append(entry)
        fixed_text = ", ".join(f"n={n} {c:.1%}" for n, c in entry["fixed"].items())
        stop = entry["at_precision"]
        print(
            f"sigma {sigma:.2f}: stopped at precision {stop['coverage']:.1%} "
            f"(mean {stop['mean_samples']:.0f} samples); fixed {fixed_text}"
        )
    if args.out:
        args.out.write_text(
            json.dumps({"trials": args.trials, "precision": method.precision, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
