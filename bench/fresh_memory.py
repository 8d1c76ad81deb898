"""How much of a network's CPU latency is fresh memory, and how much it varies: each network timed
under the two allocator policies of `hwprof measure --allocator` (hwprof/measuring/allocator.py), side by side.

    python bench/fresh_memory.py [--models mobilenet_v2 resnet18] [--repeats 5] [--before vgg11]

- system: glibc as it is. Freed activations go back to the kernel and are faulted in (and zeroed)
  again, or not, depending on the thresholds glibc has adapted to what the process freed before;
- steady: hwprof's default. Freed memory stays in the process.

Each (model, policy) runs in a fresh process on one thread, alternating system-steady-system-steady
so slow changes of the machine hit both alike, and reports the median of 21 timed forward passes
after 3 warm-ups. The policy is process-wide, which is why each run is a process of its own. With
--before, each process first runs that network three times: the same network timed after another one
shows whether its latency depends on what the process ran before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_io import provenance  # noqa: E402

POLICIES = ("system", "steady")
WORKER = """
import statistics, sys, time, torch
from hwprof.measuring.allocator import pin_allocator
state = pin_allocator(sys.argv[1])
assert state["applied"], state
torch.set_num_threads(1)
from hwprof.models.spec import resolve_model
with torch.inference_mode():
    for name in sys.argv[3:]:  # networks the process runs before the timed one
        spec = resolve_model(name)
        for _ in range(3):
            spec.module.eval()(torch.randn(1, *spec.input_shape))
    spec = resolve_model(sys.argv[2]); module = spec.module.eval(); x = torch.randn(1, *spec.input_shape)
    for _ in range(3):
        module(x)
    times = []
    for _ in range(21):
        start = time.perf_counter(); module(x); times.append(time.perf_counter() - start)
print(statistics.median(times) * 1e3)
"""


def run(model: str, policy: str, before: list[str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, policy, model, *before], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def summary(runs: list[float]) -> dict:
    return {"median_ms": statistics.median(runs), "runs_ms": runs, "max_over_min": max(runs) / min(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "mobilenet_v2_050", "resnet18", "vit_tiny"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--before",
        nargs="*",
        default=["vgg11"],
        help="Also time each model after these networks ran in the same process (none: skip).",
    )
    parser.add_argument("--out", default=str(HERE / "results" / "fresh_memory.json"))
    args = parser.parse_args()
    results = {
        **provenance(),
        "before": args.before,
        "models": {},
    }
    for model in args.models:
        alone = {policy: [] for policy in POLICIES}
        after = {policy: [] for policy in POLICIES}
        for _ in range(args.repeats):
            for policy in POLICIES:
                alone[policy].append(run(model, policy, []))
                if args.before:
                    after[policy].append(run(model, policy, args.before))
        entry = {policy: summary(alone[policy]) for policy in POLICIES}
        entry["system_over_steady"] = entry["system"]["median_ms"] / entry["steady"]["median_ms"]
        if args.before:
            entry["after_before"] = {policy: summary(after[policy]) for policy in POLICIES}
            entry["after_over_alone"] = {
                policy: entry["after_before"][policy]["median_ms"] / entry[policy]["median_ms"] for policy in POLICIES
            }
        results["models"][model] = entry
        line = (
            f"{model}: system {entry['system']['median_ms']:.2f} ms (runs {entry['system']['max_over_min']:.2f}x "
            f"apart), steady {entry['steady']['median_ms']:.2f} ms ({entry['steady']['max_over_min']:.2f}x), "
            f"system/steady {entry['system_over_steady']:.2f}"
        )
        if args.before:
            line += (
                f"; after {' '.join(args.before)} / alone: system {entry['after_over_alone']['system']:.2f}, "
                f"steady {entry['after_over_alone']['steady']:.2f}"
            )
        print(line, flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
