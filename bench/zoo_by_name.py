"""What tracing a torchvision or timm model by name costs a prediction: wall time and peak memory of a fresh process.

    python bench/zoo_by_name.py --before f6da84a --out bench/results/zoo_by_name.json

Each model is traced in a process of its own (`hwprof.predictor.records.network_layers(NAME)`, what
`predict NAME` traces), once with this tree and, given `--before REV`, once with a git worktree of REV, side
by side. Peak memory is the process's maximum resident set over the import and the trace; the layer records
of the two trees are compared by a digest of their ops, configurations and MACs (the same digest: the same
layers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from results_io import provenance  # noqa: E402

DEFAULT_MODELS = ("torchvision:vit_h_14", "torchvision:resnet50", "timm:resnet18", "torchvision:regnet_x_400mf")

CHILD = r"""
import hashlib, json, resource, sys, time
import torch
torch.set_num_threads(1)
from hwprof.predictor.records import network_layers
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
traced = network_layers(sys.argv[1])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
layers = [(r.op, r.config, int(r.flops)) for r in traced.records]
print(json.dumps({
    "trace_s": seconds,
    "peak_rss_mb_before_trace": before / 1024,
    "peak_rss_mb": peak / 1024,
    "traced_on": traced.traced_on,
    "layers": len(layers),
    "layers_digest": hashlib.sha256(repr(layers).encode()).hexdigest()[:16],
}))
"""


def run_child(tree: Path | None, model: str) -> dict:
    """One model traced by name in a fresh process importing hwprof from `tree` (None: the installed one)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, model], cwd=tree or ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def worktree(rev: str, parent: Path) -> Path:
    """A detached worktree of `rev` whose hwprof.drivers and hwprof.sample_models are its own folders."""
    tree = parent / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev], check=True)
    for name in ("drivers", "sample_models"):
        (tree / "hwprof" / name).symlink_to(tree / name)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--before", help="a revision to trace side by side (a git worktree of it)")
    parser.add_argument("--out", default=str(HERE / "results" / "zoo_by_name.json"))
    args = parser.parse_args()
    results = {"provenance": provenance(), "models": {}}
    with tempfile.TemporaryDirectory() as scratch:
        before = worktree(args.before, Path(scratch)) if args.before else None
        try:
            for model in args.models:
                entry = {"now": run_child(None, model)}
                if before is not None:
                    entry["before"] = run_child(before, model)
                    now, old = entry["now"], entry["before"]
                    if "error" not in now and "error" not in old:
                        entry["time_ratio"] = now["trace_s"] / old["trace_s"]
                        entry["peak_rss_ratio"] = now["peak_rss_mb"] / old["peak_rss_mb"]
                        entry["same_layers"] = now["layers_digest"] == old["layers_digest"]
                results["models"][model] = entry
                print(model, json.dumps(entry), flush=True)
        finally:
            if before is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
