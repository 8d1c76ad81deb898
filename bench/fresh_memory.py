"""How much of a network's latency is fresh memory: each network timed with glibc's default
allocator settings and again with its mmap threshold raised, so freed activations are reused
instead of being returned to the kernel and faulted in (and zeroed) again.

    python bench/fresh_memory.py [--models mobilenet_v2 resnet18 vit_tiny] [--repeats 3]

Each (model, setting) runs in its own process on one thread, alternating A-B-A-B, and reports
the median of 21 timed forward passes after 3 warm-ups. The setting is process-wide, which is
why it is applied through the environment of a fresh process (it cannot change in one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REUSE = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 32),
         "MALLOC_TOP_PAD_": str(1 << 28)}
WORKER = """
import statistics, sys, time, torch
torch.set_num_threads(1)
from hwprof.models import resolve_model
spec = resolve_model(sys.argv[1]); module = spec.module.eval(); x = torch.randn(1, *spec.input_shape)
with torch.inference_mode():
    for _ in range(3):
        module(x)
    times = []
    for _ in range(21):
        start = time.perf_counter(); module(x); times.append(time.perf_counter() - start)
print(statistics.median(times) * 1e3)
"""


def run(model: str, reuse: bool) -> float:
    env = dict(os.environ, **REUSE) if reuse else dict(os.environ)
    out = subprocess.run([sys.executable, "-c", WORKER, model], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "mobilenet_v2_050", "resnet18", "vit_tiny"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "fresh_memory.json"))
    args = parser.parse_args()
    from hwprof.provenance import cpu_model

    results = {"command": " ".join(["python", *sys.argv]), "machine": f"{cpu_model()}, {os.cpu_count()} cores",
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "reuse_env": REUSE, "models": {}}
    for model in args.models:
        default, reuse = [], []
        for _ in range(args.repeats):
            default.append(run(model, False))
            reuse.append(run(model, True))
        entry = {"default_ms": statistics.median(default), "reuse_ms": statistics.median(reuse),
                 "default_runs_ms": default, "reuse_runs_ms": reuse}
        entry["default_over_reuse"] = entry["default_ms"] / entry["reuse_ms"]
        results["models"][model] = entry
        print(f"{model}: default {entry['default_ms']:.2f} ms, memory reused {entry['reuse_ms']:.2f} ms, "
              f"ratio {entry['default_over_reuse']:.2f}", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
