"""Constraint-aware against constraint-unaware search on the digits demo, at equal wall time, same run.

Both runs use TPE with the same seed, the same objective (train + held-out accuracy) and the same
predictor fitted on this machine. The aware run predicts each candidate first and never trains one
predicted to break the budget; the unaware run trains everything, as plain hyper-parameter search
does, and only afterwards learns which of its results break the budget. Feasibility means the same
thing for both: the predictor's point prediction meets the budget. The best configuration of each
run is then measured with hwprof.measure to check the budget in reality.

Reported per seed, side by side, with HyperPower (DATE 2018) beside them:
  evaluations    configurations considered in the time (predicted-only ones count, as in HyperPower)
  wasted         trainings spent on configurations that break the budget
  best feasible  held-out accuracy of the best configuration that meets the budget
  time to best   seconds until that accuracy was first reached
  speedup        unaware's time to its best feasible accuracy / aware's time to reach the same accuracy

    flock /tmp/hwprof-bench.lock python bench/search_benchmark.py --seconds 180 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from results_io import emit_markdown

from hwprof.models.spec import ModelSpec
from hwprof.progress import Notes
from hwprof.search.constraints import parse_constraints
from hwprof.search.demo import demo_default_budget, demo_predictor, demo_space
from hwprof.search.study import SearchOptions, SearchResult, run_search

HYPERPOWER = {"more_evaluations": 57.20, "faster_to_unaware_best": 112.99}
MANY_TRIALS = 1_000_000  # the wall-time budget stops the run, not the trial count


def run_once(predictor, budget: str, seconds: float, seed: int, aware: bool) -> SearchResult:
    space = demo_space()
    options = SearchOptions(
        trials=MANY_TRIALS,
        constraints=parse_constraints([budget]),
        seed=seed,
        timeout_s=seconds,
        constraint_aware=aware,
        study_name=f"bench-{aware}-{seed}",
    )
    return run_search(space, predictor, space.objective, space.objective_ref, options)


def summarise(result: SearchResult, seconds: float) -> dict:
    """Figures from the trials that finished inside the wall-time budget."""
    within = [r for r in result.finished if r.finished_s is not None and r.finished_s <= seconds]
    trained = [r for r in within if r.trained]
    feasible = [r for r in trained if r.feasible]
    best = max((r.score for r in feasible), default=None)
    time_to_best = min((r.finished_s for r in feasible if r.score == best), default=None)
    best_record = min((r for r in feasible if r.score == best), key=lambda r: r.finished_s, default=None)
    return {
        "evaluations": len(within),
        "trainings": len(trained),
        "skipped": sum(r.state == "skipped" for r in within),
        "wasted": sum(not r.feasible for r in trained),
        "wasted_training_s": sum(r.train_s for r in trained if not r.feasible),
        "training_s": sum(r.train_s for r in trained),
        "prediction_s": sum(r.predict_s or 0.0 for r in within),
        "best_feasible_accuracy": best,
        "time_to_best_s": time_to_best,
        "best_params": best_record.params if best_record else None,
        "best_predicted_latency_ms": best_record.metrics["latency_ms"] if best_record else None,
        "progress": [(r.finished_s, r.score) for r in sorted(feasible, key=lambda r: r.finished_s)],
    }


def time_to_reach(progress: list, accuracy: float | None) -> float | None:
    if accuracy is None:
        return None
    return next((t for t, score in progress if score >= accuracy), None)


def measure_best(runs: list[dict], budget: str) -> list[dict]:
    """Measure each run's best configuration here: does the budget hold in reality?"""
    from hwprof.measuring.session import measure

    space = demo_space()
    constraint = parse_constraints([budget])[0]
    chosen = {}
    for run in runs:
        if run["best_params"] is not None:
            chosen.setdefault(json.dumps(run["best_params"], sort_keys=True), run["best_params"])
    if not chosen:
        return []
    specs = [
        ModelSpec(f"best-{i}", space.build(params), space.input_shape, space.name)
        for i, params in enumerate(chosen.values())
    ]
    frame = measure(specs, batch_sizes=(1,), device="cpu", power="none", layers=False, precision=0.05, max_item_s=5.0)
    latency = frame[frame["kind"] == "network"].set_index("model")["latency_ms"]
    checks = []
    for spec, params in zip(specs, chosen.values()):
        measured = float(latency[spec.name])
        checks.append({"params": params, "measured_latency_ms": measured, "holds": constraint.holds(measured)})
    return checks


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def markdown(report: dict) -> str:
    seconds = report["seconds_per_run"]
    lines = [
        f"Search benchmark ({report['date']}, {report['machine']}): digits CNN demo, TPE, budget "
        f"`{report['budget']}`, {seconds:.0f} s of wall time per run, seeds {report['seeds']}, "
        f"aware and unaware runs alternated in the same process. Command: `{report['command']}` "
        "(flock-wrapped by bench/search_benchmark.sh).",
        "",
        "| seed | search | evaluations | trainings | wasted trainings | training time wasted "
        "| best feasible accuracy | time to best (s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pair in report["pairs"]:
        for name in ("unaware", "aware"):
            run = pair[name]
            accuracy = "none" if run["best_feasible_accuracy"] is None else f"{run['best_feasible_accuracy']:.4f}"
            to_best = "-" if run["time_to_best_s"] is None else f"{run['time_to_best_s']:.1f}"
            wasted_share = run["wasted_training_s"] / run["training_s"] if run["training_s"] else 0.0
            lines.append(
                f"| {pair['seed']} | {name} | {run['evaluations']} | {run['trainings']} | {run['wasted']} "
                f"| {wasted_share:.0%} | {accuracy} | {to_best} |"
            )
    lines += [
        "",
        "| ratio (aware / unaware, same run) | "
        + " | ".join(f"seed {p['seed']}" for p in report["pairs"])
        + " | median | HyperPower (published) |",
        "|---|" + "---:|" * (len(report["pairs"]) + 2),
    ]
    for key, label, published in (
        ("evaluation_ratio", "evaluations in the same time", HYPERPOWER["more_evaluations"]),
        (
            "speedup_to_unaware_best",
            "faster to the unaware run's best feasible accuracy",
            HYPERPOWER["faster_to_unaware_best"],
        ),
    ):
        values = [p[key] for p in report["pairs"]]
        known = [v for v in values if v is not None]
        cells = ["not reached" if v is None else f"{v:.2f}x" for v in values]
        median = f"{statistics.median(known):.2f}x" if known else "-"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {median} | up to {published:.2f}x |")
    if report["measured_best"]:
        lines += [
            "",
            "Best configurations measured afterwards (hwprof.measure, network only): "
            + "; ".join(
                f"{check['measured_latency_ms']:.3f} ms ({'meets' if check['holds'] else 'BREAKS'} the budget)"
                for check in report["measured_best"]
            )
            + ".",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0, help="wall time per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--constraint", help="budget; default: the median predicted latency of the family")
    parser.add_argument("--work", default="/tmp/hwprof-search-bench", help="demo measurements and predictor")
    parser.add_argument("--networks", type=int, default=24, help="demo networks measured to fit the predictor")
    parser.add_argument("--out", default="bench/results/search_benchmark.json")
    args = parser.parse_args()

    torch.set_num_threads(1)  # one core per run: the machine's other core stays for everything else
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    predictor, predictor_path = demo_predictor(args.work, count=args.networks, threads=1, progress=Notes(print))
    fit_s = time.perf_counter() - started
    budget = args.constraint or demo_default_budget(predictor)
    print(f"budget {budget}; {args.seconds:.0f} s per run")
    pairs = []
    for index, seed in enumerate(args.seeds):
        order = (True, False) if index % 2 == 0 else (False, True)  # alternate who goes first
        runs = {}
        for aware in order:
            name = "aware" if aware else "unaware"
            runs[name] = summarise(run_once(predictor, budget, args.seconds, seed, aware), args.seconds)
            print(f"seed {seed} {name}: " + json.dumps({k: v for k, v in runs[name].items() if k != "progress"}))
        unaware_best = runs["unaware"]["best_feasible_accuracy"]
        pairs.append(
            {
                "seed": seed,
                "order": ["aware" if a else "unaware" for a in order],
                **runs,
                "evaluation_ratio": ratio(runs["aware"]["evaluations"], runs["unaware"]["evaluations"]),
                "speedup_to_unaware_best": ratio(
                    runs["unaware"]["time_to_best_s"], time_to_reach(runs["aware"]["progress"], unaware_best)
                ),
            }
        )
    measured_best = measure_best([run for pair in pairs for run in (pair["aware"], pair["unaware"])], budget)
    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "torch_threads": 1,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "command": " ".join(["python", *sys.argv]),
        "budget": budget,
        "seconds_per_run": args.seconds,
        "seeds": args.seeds,
        "predictor": str(predictor_path),
        "predictor_networks": args.networks,
        "predictor_fit_s": fit_s,
        "hyperpower_published": HYPERPOWER,
        "pairs": pairs,
        "measured_best": measured_best,
    }
    emit_markdown(report, markdown(report), args.out)


if __name__ == "__main__":
    main()
