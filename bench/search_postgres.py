"""Several search workers sharing one study in a real PostgreSQL server (started by search_postgres.sh).

Each worker is its own process running the digits demo with the same --storage URL and study name;
together they stop at --trials finished trials. Afterwards the study is read back from the server
and resumed to a larger total by this process, as an interrupted or extended study would be.

    bench/search_postgres.sh            # starts a throwaway server, runs this, stops the server
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from pathlib import Path


def worker(url: str, predictor_path: str, trials: int, seed: int, start, queue) -> None:
    import optuna
    import torch

    from hwprof.predictor.predictor import load_predictor
    from hwprof.search.constraints import parse_constraints
    from hwprof.search.demo import demo_space
    from hwprof.search.study import SearchOptions, run_search

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, predictor = demo_space(), load_predictor(predictor_path)
    options = SearchOptions(
        trials=trials,
        constraints=parse_constraints([os.environ["BUDGET"]]),
        seed=seed,
        storage=url,
        study_name="digits-postgres",
    )
    mine = []
    start.wait()
    run_search(
        space,
        predictor,
        space.objective,
        space.objective_ref,
        options,
        on_trial=lambda record: mine.append(record.number),
    )
    queue.put({"pid": os.getpid(), "seed": seed, "trials": mine})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--trials", type=int, default=18)
    parser.add_argument("--work", default="/tmp/hwprof-search-postgres")
    parser.add_argument("--out", default="bench/results/search_postgres.json")
    args = parser.parse_args()

    import optuna

    from hwprof.progress import Notes
    from hwprof.search.constraints import parse_constraints
    from hwprof.search.demo import demo_default_budget, demo_predictor, demo_space
    from hwprof.search.study import SearchOptions, open_storage, run_search

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    predictor, predictor_path = demo_predictor(args.work, progress=Notes(print))
    budget = demo_default_budget(predictor)
    os.environ["BUDGET"] = budget
    open_storage(args.url)  # creates the tables once, before the workers race to
    context = multiprocessing.get_context("spawn")
    start, queue = context.Barrier(args.workers), context.Queue()
    processes = [
        context.Process(target=worker, args=(args.url, str(predictor_path), args.trials, seed, start, queue))
        for seed in range(args.workers)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    reports = [queue.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    workers_s = time.perf_counter() - started

    space = demo_space()
    options = SearchOptions(
        trials=args.trials + 4,
        constraints=parse_constraints([budget]),
        seed=99,
        storage=args.url,
        study_name="digits-postgres",
    )
    resumed = run_search(space, predictor, space.objective, space.objective_ref, options)
    numbers = [n for report in reports for n in report["trials"]]
    summary = {
        "storage": args.url.split("@")[-1],
        "server": os.environ.get("PG_VERSION", "unknown"),
        "workers": args.workers,
        "trials_target": args.trials,
        "budget": budget,
        "per_worker": [{"seed": r["seed"], "trials": len(r["trials"])} for r in reports],
        "finished_by_workers": len(numbers),
        "duplicates": len(numbers) - len(set(numbers)),
        "workers_wall_s": workers_s,
        "after_resume": {
            "trials_target": args.trials + 4,
            "finished": len(resumed.finished),
            "trained": sum(r.trained for r in resumed.records),
            "skipped": resumed.skipped_trainings,
            "wasted": resumed.wasted_trainings,
            "best_accuracy": resumed.best.score if resumed.best else None,
        },
    }
    summary["ok"] = (
        summary["duplicates"] == 0
        and args.trials <= len(numbers) < args.trials + args.workers
        and sum(bool(r["trials"]) for r in reports) >= 2
        and summary["after_resume"]["finished"] == args.trials + 4
        and resumed.wasted_trainings == 0
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if not summary["ok"]:
        raise SystemExit("PostgreSQL storage check failed: see the summary above")


if __name__ == "__main__":
    main()
