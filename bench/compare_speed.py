"""What `hwprof compare` costs on a large pair of datasets, against another revision, side by side.

    python bench/compare_speed.py --before REV [--models 555] [--boards 1] [--rounds 3] [--out FILE.json]

Two synthetic runs with raw samples (tests/fakes/runs.py: per model a network row and 8 layer rows, 20
samples each; the second 3% slower), written once. With --boards N, each side is a fleet file instead: N
boards' runs of --models models each (board k's latencies k-dependent, the same on both sides), merged with
`hwprof merge` as a fleet's CI job does. Each round times `hwprof compare BASE NEW --json` in a
fresh process for REV (a git worktree) and for this checkout, alternated, so that a slow spell of the
machine falls on both. Reported: each side's CPU seconds (user + system of the child) and wall seconds,
and the median of per-round ratios. The two sides' JSON outputs must be identical: a faster compare that
says something else is not the same compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakes.runs import write_run  # noqa: E402


def timed_compare(base: Path, new: Path, tree: Path | None) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, JSON text) of one `hwprof compare` in a child process; `tree` is another
    checkout to run instead of this one (its own hwprof package first on the path)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hwprof", "compare", str(base), str(new), "--json"],
        env=env,
        cwd=base.parent,  # not this checkout: `python -m` puts the working folder first on the path
        capture_output=True,
        text=True,
        check=False,
    )
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"compare failed ({'before' if tree else 'after'}): {done.stderr.strip()[-400:]}")
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu_s, wall_s, done.stdout


def before_tree(root: Path, revision: str, folder: Path) -> Path:
    """A worktree of `revision` whose hwprof package finds the current drivers and sample models (installed
    from their own top-level folders)."""
    tree = folder / "before"
    subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "-q", str(tree), revision], check=True)
    for name in ("drivers", "sample_models"):
        link = tree / "hwprof" / name
        if not link.exists():
            link.symlink_to(root / name)
    return tree


RECORDED_RUN = HERE / "data" / "default" / "resnet18.parquet"  # a real run's provenance, for the fleet's runs
OWN_FACTS = ("run_id", "schema_version", "device_name", "host", "rows", "status", "start_time", "end_time")


def fleet_side(folder: Path, name: str, boards: int, models: tuple[str, ...], factor: float, seed: int) -> Path:
    """One side as a fleet file: a shard per board (its own device_name and speed), merged. Each board's run
    records what a real run does (RECORDED_RUN's provenance, its own facts left out), since pandas copies a
    frame's provenance into every slice and the size of a run's record is part of what compare costs."""
    from hwprof.dataset import merge_datasets, read_provenance

    (recorded,) = read_provenance(RECORDED_RUN)
    facts = {key: value for key, value in recorded.items() if key not in OWN_FACTS}
    shards = [
        write_run(
            folder / f"{name}-board{board:02d}.parquet",
            factor=factor * (0.5 + board / boards),
            seed=seed * 1000 + board,
            models=models,
            samples=20,
            device_name=f"board-{board:02d}",
            provenance_fields=facts,
        )
        for board in range(boards)
    ]
    merge_datasets(shards, folder / f"{name}.parquet")
    return folder / f"{name}.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the revision to compare against")
    parser.add_argument("--models", type=int, default=555, help="models per run (9 rows each)")
    parser.add_argument("--boards", type=int, default=1, help="boards per side, each a run of --models models")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "compare_speed.json"))
    args = parser.parse_args()

    root = HERE.parent
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        models = tuple(f"net{i}" for i in range(args.models))
        if args.boards > 1:
            base = fleet_side(folder, "base", args.boards, models, factor=1.0, seed=1)
            new = fleet_side(folder, "new", args.boards, models, factor=1.03, seed=2)
        else:
            base = write_run(folder / "base.parquet", factor=1.0, seed=1, models=models, samples=20)
            new = write_run(folder / "new.parquet", factor=1.03, seed=2, models=models, samples=20)
        tree = before_tree(root, args.before, folder)
        sides: dict[str, dict[str, list[float]]] = {
            "before": {"cpu_s": [], "wall_s": []},
            "after": {"cpu_s": [], "wall_s": []},
        }
        outputs: dict[str, set[str]] = {"before": set(), "after": set()}
        try:
            for round_number in range(args.rounds):
                for side, where in (("before", tree), ("after", None)):
                    cpu_s, wall_s, text = timed_compare(base, new, where)
                    sides[side]["cpu_s"].append(cpu_s)
                    sides[side]["wall_s"].append(wall_s)
                    outputs[side].add(text)
                    print(f"round {round_number + 1} {side}: {cpu_s:.1f} s CPU, {wall_s:.1f} s wall", flush=True)
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)

    import statistics

    def ratio(key: str) -> float:
        return statistics.median(a / b for a, b in zip(sides["after"][key], sides["before"][key]))

    result = {
        "command": " ".join(["python", "bench/compare_speed.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "before": args.before,
        "rows_per_run": args.models * 9,
        "boards": args.boards,
        "sides": sides,
        "after_over_before_cpu": ratio("cpu_s"),
        "after_over_before_wall": ratio("wall_s"),
        "same_json": outputs["before"] == outputs["after"] and len(outputs["after"]) == 1,
        "load_average": os.getloadavg(),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("after_over_before_cpu", "after_over_before_wall", "same_json")}))


if __name__ == "__main__":
    main()
