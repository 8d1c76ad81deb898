"""A job pinned to one CPU beside a busy neighbour: does the quiet-machine check blame the neighbour?

    python bench/own_cpus.py [--code PATH] [--rounds 2] [--out bench/results/own_cpus.json]

A job that owns CPU 0 (`taskset -c 0`, as a SLURM or Kubernetes cpuset gives it) measures mlp and the layer
sweep of relu, once with the other CPU idle and once with a busy loop pinned to CPU 1. Load on a CPU the job
may not use cannot slow it, so a check that counts the process's own CPUs should see the same quiet run
both times: no burst discarded, no wait, no warning. Each run is a fresh `python -m hwprof measure`, with
`--code PATH` putting another checkout's hwprof first (a worktree of an earlier commit), so the same script
measures the code before a change; sides alternate, `--rounds` times.

Also counted: the lines of warnings a short budget prints (`--max-time 0.03` over a layer sweep); an audit on
a busy machine saw one per item before stop 42.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURE = ["mlp", "sweep:relu:6", "--threads", "1", "--max-time", "1", "--power", "none", "--sweep-share", "0"]
SHORT = ["sweep:add:8", "sweep:relu:8", "--threads", "1", "--max-time", "0.03", "--power", "none"]


def hwprof(code: str | None, args: list[str], folder: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    command = ["taskset", "-c", "0", sys.executable, "-m", "hwprof", *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)


def one_run(code: str | None, busy: bool, folder: Path, name: str) -> dict:
    import pandas as pd

    neighbour = None
    if busy:
        neighbour = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", "while True: pass"])
    try:
        done = hwprof(code, ["measure", *MEASURE, "--seed", "0", "--out", f"{name}.parquet"], folder)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr[-2000:]}")
    frame = pd.read_parquet(folder / f"{name}.parquet")
    network = frame[frame["kind"] == "network"]
    return {
        "busy_neighbour": busy,
        "median_other_cpu_share": float(frame["other_cpu_share"].median()),
        "discarded_bursts": int(frame["discarded_bursts"].fillna(0).sum()),
        "network_latency_ms": float(network["latency_ms"].iloc[0]),
        "inflated_warning": "may be inflated" in done.stderr or "idle machine" in done.stderr,
    }


def short_budget_warnings(code: str | None, folder: Path, name: str) -> int:
    done = hwprof(code, ["measure", *SHORT, "--seed", "0", "--out", f"{name}.parquet"], folder)
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr[-2000:]}")
    return sum("--max-time" in line for line in done.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", help="another checkout whose hwprof to measure beside this one")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "own_cpus.json"))
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("this benchmark needs two CPUs: one for the job, one for its busy neighbour")
    sides = {"this checkout": None, **({f"code at {args.code}": args.code} if args.code else {})}
    folder = Path(tempfile.mkdtemp(prefix="hwprof-own-cpus-"))
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    warnings: dict[str, list[int]] = {side: [] for side in sides}
    for round_number in range(args.rounds):
        for index, (side, code) in enumerate(sides.items()):
            for busy in (False, True):
                name = f"r{round_number}_s{index}_{'busy' if busy else 'quiet'}"
                runs[side].append(one_run(code, busy, folder, name) | {"round": round_number})
                print(side, runs[side][-1], file=sys.stderr)
            warnings[side].append(short_budget_warnings(code, folder, f"r{round_number}_s{index}_short"))
    summary = {}
    for side, rows in runs.items():
        busy = [r for r in rows if r["busy_neighbour"]]
        quiet = [r for r in rows if not r["busy_neighbour"]]
        summary[side] = {
            "busy: median other_cpu_share": statistics.median(r["median_other_cpu_share"] for r in busy),
            "busy: discarded bursts per run": statistics.median(r["discarded_bursts"] for r in busy),
            "busy: runs warned of inflated timings": sum(r["inflated_warning"] for r in busy),
            "quiet: median other_cpu_share": statistics.median(r["median_other_cpu_share"] for r in quiet),
            "network latency busy / quiet": statistics.median(
                b["network_latency_ms"] / q["network_latency_ms"] for b, q in zip(busy, quiet)
            ),
            "short budget: warning lines": statistics.median(warnings[side]),
        }
    report = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
        "summary": summary,
    }
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
