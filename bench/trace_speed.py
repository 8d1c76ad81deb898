"""What tracing a network for prediction costs: meta tensors against a real forward pass, side by side.

    flock /tmp/hwprof-bench.lock python bench/trace_speed.py

Each case runs in two fresh child processes, one per path, so that each
reports its own peak resident memory (ru_maxrss) as well as its time:
- real: build the model with real, initialised weights and trace one forward
  pass on real tensors (hwprof.models.layers.extract_layers, what prediction
  did before);
- meta: hwprof.predictor.records.network_layers, which builds built-in models
  on the meta device and propagates shapes only.
Cases: new NAS-Bench-201 cells at batch 1 (a search loop's unit of work; a
fresh cell per repeat, so nothing is cached), ResNet-50 at batch 256, the
small ViT at batch 64. Then trace + predict of a new cell with a fitted
predictor, end to end through Predictor.predict. Single-threaded (torch,
BLAS and OpenMP pinned to one thread).
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = {  # name: (model, batch size, repeats)
    "nb201_cell_b1": ("nb201", 1, 20),
    "resnet50_b256": ("resnet50", 256, 2),
    "vit_small_patch_b64": ("vit_small_patch", 64, 2),
}


def child(case: str, path: str) -> dict:
    """Time `repeats` traces of one case by one path, in this process; report medians and peak RSS."""
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from fit_measure_data import nb201_archs

    from hwprof.models.layers import extract_layers
    from hwprof.models.spec import resolve_model
    from hwprof.predictor import records

    model, batch_size, repeats = CASES[case]
    names = [f"nb201:{a}" for a in nb201_archs(repeats, seed=11)] if model == "nb201" else [model] * repeats

    def trace(name: str, batch: int) -> tuple[int, str]:
        records._cache.clear()
        if path == "real":
            spec = resolve_model(name)
            found, _ = extract_layers(spec.module, spec.input_shape, batch)
            return len(found), "real"
        traced = records.network_layers(name, batch)
        return len(traced.records), traced.traced_on

    trace("mlp", 1)  # warm-up: imports and first-call costs, untimed
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for name in names:
        start = time.perf_counter()
        layers, traced_on = trace(name, batch_size)
        times.append(time.perf_counter() - start)
    return {
        "median_ms": 1e3 * float(np.median(times)),
        "min_ms": 1e3 * float(np.min(times)),
        "repeats": len(times),
        "layers": layers,
        "traced_on": traced_on,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_warm_up_mb": rss_before_mb,
    }


def predict_child() -> dict:
    """Trace + predict of new NB-201 cells with a layer-wise predictor fitted on the benchmark data."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from fit_common import TOGETHER_RUNS, existing
    from fit_measure_data import nb201_archs

    from hwprof.fitting.fit import fit

    data = existing(*TOGETHER_RUNS[:1])
    if not data:
        return {"unavailable": "bench/data/together.parquet is missing (see fit_measure_data.py)"}
    predictor = fit(data, family="auto", cv=False)
    names = [f"nb201:{a}" for a in nb201_archs(21, seed=13)]
    times = []
    for i, name in enumerate(names):
        start = time.perf_counter()
        predictor.predict(name)
        if i:
            times.append(time.perf_counter() - start)
    return {"median_ms": 1e3 * float(np.median(times)), "repeats": len(times)}


def run_child(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True, check=False, env=os.environ
    )
    if done.returncode:
        return {"failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--predict-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results" / "trace_speed.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.predict_child:
        print(json.dumps(predict_child()))
        return

    from hwprof.drivers.host import cpu_model

    results = {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "threads": 1,
        "cases": {},
    }
    for case in CASES:
        real, meta = run_child("--child", case, "real"), run_child("--child", case, "meta")
        entry = {"real": real, "meta": meta}
        if "median_ms" in real and "median_ms" in meta:
            entry["real_over_meta"] = real["median_ms"] / meta["median_ms"]
        results["cases"][case] = entry
        print(case, json.dumps(entry), flush=True)
    results["trace_and_predict_new_nb201_cell"] = run_child("--predict-child")
    print("trace+predict", json.dumps(results["trace_and_predict_new_nb201_cell"]))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
