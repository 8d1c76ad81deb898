"""What tracing a network for prediction costs: meta tensors against a real forward pass, side by side.

    flock /tmp/hwprof-bench.lock python bench/trace_speed.py [--before REV] [--cases CASE ...]

Each case runs in two fresh child processes, one per path, so that each
reports its own peak resident memory (ru_maxrss) as well as its time:
- real: build the model with real, initialised weights and trace one forward
  pass on real tensors (hwprof.models.layers.extract_layers, what prediction
  did before);
- meta: hwprof.predictor.records.network_layers, which builds built-in models
  on the meta device and propagates shapes only.
Cases: new NAS-Bench-201 cells at batch 1 (a search loop's unit of work; a
fresh cell per repeat, traced one after another in one process as a search
does, so torch.nn leaves and blocks met in earlier networks (the stem, edges,
reduction blocks) are recalled, while no new cell is looked up whole), ResNet-50 at batch 256, the
small ViT at batch 64, and a 7 B-parameter decoder (hf:llama in the shape of
Llama-2-7B, built from transformers' defaults; its real side runs only where
its float32 weights fit in the memory available). Hugging Face cases warm up
on a one-layer config of the same architecture, which imports its code.
Then trace + predict end to end through Predictor.predict, each in a fresh
process that loads a predictor fitted once on the benchmark data: new cells
(target <= 5 ms), ResNet-50 at batch 256 (target <= 50 ms) and the 7 B
decoder (target <= 2 s and a peak RSS under 1 GB). Single-threaded (torch, BLAS and OpenMP pinned to one thread).
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
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
# The shape of Llama-2-7B: 6.7 B parameters, 27 GB of float32 weights were they real.
LLAMA_7B = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
}
CASES = {  # name: (model, batch size, repeats, hf_config)
    "nb201_cell_b1": ("nb201", 1, 20, None),
    "resnet50_b256": ("resnet50", 256, 10, None),
    "vit_small_patch_b64": ("vit_small_patch", 64, 10, None),
    "llama_7b_b1": ("hf:llama", 1, 5, LLAMA_7B),
}
REAL_REPEATS = 2  # a real forward pass of the large cases takes up to a minute: two, not `repeats`


def warm_up_config(hf_config: dict | None) -> dict | None:
    """One layer of the same architecture and width: it imports the model's code, untimed."""
    return None if hf_config is None else {**hf_config, "num_hidden_layers": 1}


def weights_fit(name: str, hf_config: dict | None) -> str:
    """'' where the model's real weights fit in the memory available, else why the real side is not run."""
    import psutil
    import torch

    from hwprof.models.spec import resolve_model

    with torch.device("meta"):
        module = resolve_model(name, hf_config=hf_config).module
    weight_bytes = sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
    free_bytes = psutil.virtual_memory().available
    if weight_bytes <= free_bytes:
        return ""
    return f"its float32 weights, {weight_bytes / 1e9:.1f} GB, exceed the {free_bytes / 1e9:.1f} GB of memory available"


def forget_remembered_layers() -> None:
    """The same network again must be traced, not recalled from the last repeat."""
    try:
        from hwprof.models import recall
    except ImportError:  # an older checkout (--before): torch.nn leaves only, kept in layers
        from hwprof.models import layers

        getattr(layers, "_META_LEAVES", {}).clear()
    else:
        recall.forget()


def child(case: str, path: str) -> dict:
    """Time `repeats` traces of one case by one path, in this process; report medians and peak RSS."""
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from fit_measure_data import nb201_archs

    from hwprof.models.layers import run_and_extract
    from hwprof.models.spec import resolve_model
    from hwprof.predictor import records

    model, batch_size, repeats, hf_config = CASES[case]
    if model != "nb201" and path == "real":
        repeats = REAL_REPEATS
    names = [f"nb201:{a}" for a in nb201_archs(repeats, seed=11)] if model == "nb201" else [model] * repeats
    if path == "real" and (too_large := weights_fit(names[0], hf_config)):
        return {"not_run": too_large}

    def trace(name: str, batch: int, config: dict | None) -> tuple[int, str]:
        records._cache.clear()
        if model != "nb201":  # the same network again: none of its layers may be recalled from the last trace
            forget_remembered_layers()
        if path == "real":
            spec = resolve_model(name, hf_config=config)
            found, _ = run_and_extract(spec.module, spec.model_inputs, batch)
            return len(found), "real"
        traced = records.network_layers(name, batch, hf_config=config)
        return len(traced.records), traced.traced_on

    # warm-up: imports and first-call costs, untimed
    trace("mlp", 1, None) if hf_config is None else trace(model, 1, warm_up_config(hf_config))
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for name in names:
        start = time.perf_counter()
        layers, traced_on = trace(name, batch_size, hf_config)
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


def fit_predictor(path: Path) -> str:
    """Fit the layer-wise predictor the trace + predict cases load; '' when done, else why not."""
    sys.path.insert(0, str(HERE))
    from fit_common import TOGETHER_RUNS, existing

    from hwprof.fitting.fit import fit

    data = existing(*TOGETHER_RUNS[:1])
    if not data:
        return "bench/data/together.parquet is missing (see fit_measure_data.py)"
    fit(data, family="auto", cv=False).save(path)
    return ""


def predict_child(predictor_path: str, case: str) -> dict:
    """Trace + predict of new networks with a fitted predictor, in this fresh process: time and peak RSS."""
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from fit_measure_data import nb201_archs

    from hwprof.predictor import records
    from hwprof.predictor.predictor import load_predictor

    predictor = load_predictor(predictor_path)
    if case == "nb201_cell_b1":  # the cells the trace case times, so that the two rows compare
        model, _, repeats, _ = CASES[case]
        predictor.predict("mlp")  # imports, untimed
        calls = [(("mlp",), {})] + [((f"nb201:{a}",), {}) for a in nb201_archs(repeats, seed=11)]
    else:
        model, batch_size, repeats, hf_config = CASES[case]
        predictor.predict(model, batch_size, hf_config=warm_up_config(hf_config))  # imports, untimed
        calls = [((model, batch_size), {"hf_config": hf_config})] * (repeats + 1)
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, traced_on = [], set()
    for i, (args, kwargs) in enumerate(calls):
        records._cache.clear()  # a new network each time: traced, not looked up
        if case != "nb201_cell_b1":
            forget_remembered_layers()
        start = time.perf_counter()
        prediction = predictor.predict(*args, **kwargs)
        if i:  # the first call pays first-call costs
            times.append(time.perf_counter() - start)
        traced_on.add(prediction.traced_on)
    return {
        "median_ms": 1e3 * float(np.median(times)),
        "repeats": len(times),
        "traced_on": ",".join(sorted(traced_on)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_warm_up_mb": rss_before_mb,
    }


def cpu_jiffies() -> tuple[int, int] | None:
    """(stolen, total) CPU time since boot from /proc/stat; None where there is none. Time the hypervisor
    gave to other guests slows every timing here, so the run reports its share."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def run_child(*argv: str, tree: Path | None = None) -> dict:
    """This script in a fresh process; with `tree`, importing that checkout's hwprof."""
    env = os.environ if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        return {"failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--predict-child", nargs=2, metavar=("PREDICTOR", "CASE"), help=argparse.SUPPRESS)
    parser.add_argument("--block-recall-child", nargs=2, metavar=("CASE", "PAIRS"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results" / "trace_speed.json"))
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES), help="only these cases")
    parser.add_argument(
        "--block-recall",
        type=int,
        metavar="PAIRS",
        help="only time meta traces with and without the block memo, alternated in one process per case "
        "(PAIRS pairs each; the fx cases), and write those figures",
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also time the meta path with this earlier commit's hwprof (a temporary git worktree; this "
        "checkout's benchmark code), alternated with this checkout's, three rounds per case: the change's "
        "speed-up measured in the same minutes",
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.predict_child:
        print(json.dumps(predict_child(*args.predict_child)))
        return
    if args.block_recall_child:
        print(json.dumps(block_recall_child(args.block_recall_child[0], int(args.block_recall_child[1]))))
        return

    from hwprof.drivers.host import cpu_model

    if args.block_recall:
        found = {"command": " ".join(["python", *sys.argv]), "machine": f"{cpu_model()}, {os.cpu_count()} cores"}
        found["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for case in ("nb201_cell_b1", "resnet50_b256", "vit_small_patch_b64"):
            found[case] = run_child("--block-recall-child", case, str(args.block_recall))
            print(case, json.dumps(found[case]), flush=True)
        Path(args.out).write_text(json.dumps(found, indent=2) + "\n")
        return

    results = {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "threads": 1,
        "cases": {},
    }
    jiffies_before = cpu_jiffies()
    for case in args.cases:
        real, meta = run_child("--child", case, "real"), run_child("--child", case, "meta")
        entry = {"real": real, "meta": meta}
        if "median_ms" in real and "median_ms" in meta:
            entry["real_over_meta"] = real["median_ms"] / meta["median_ms"]
        results["cases"][case] = entry
        print(case, json.dumps(entry), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        predictor_path = Path(folder) / "predictor.json"
        missing = fit_predictor(predictor_path)
        for case in [c for c in ("nb201_cell_b1", "resnet50_b256", "llama_7b_b1") if c in args.cases]:
            entry = {"unavailable": missing} if missing else run_child("--predict-child", str(predictor_path), case)
            results[f"trace_and_predict_{case}"] = entry
            print(f"trace+predict {case}", json.dumps(entry), flush=True)
    if args.before:
        results["before_after"] = before_after(args.before, args.cases)
    jiffies_after = cpu_jiffies()
    if jiffies_before and jiffies_after and jiffies_after[1] > jiffies_before[1]:
        stolen, total = (after - before for after, before in zip(jiffies_after, jiffies_before))
        results["steal_share"] = stolen / total
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


def block_recall_child(case: str, pairs: int) -> dict:
    """Meta traces with the block memo (hwprof.models.recall) and without it, alternated trace by trace in
    this one process, so that the machine's slow spells fall on both: the memo's own effect. "Without" runs
    fx's own interpreter loop, which recalls torch.nn leaves but no block."""
    import numpy as np
    import torch
    import torch.fx as fx

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from fit_measure_data import nb201_archs

    from hwprof.models import layers
    from hwprof.predictor import records

    model, batch_size, _, hf_config = CASES[case]
    with_blocks = layers._FxRecorder.run

    def without_blocks(self, *args):
        return fx.Interpreter.run(self, *args)

    # a new cell per pair, traced by both sides (the second then recalls the torch.nn leaves the first met,
    # whichever side it is: the order alternates)
    names = [f"nb201:{a}" for a in nb201_archs(pairs + 1, seed=11)] if model == "nb201" else [model] * (pairs + 1)
    records.network_layers("mlp", 1)  # imports, untimed
    times: dict[str, list[float]] = {"with": [], "without": []}
    for i, name in enumerate(names):
        for side in ("with", "without") if i % 2 else ("without", "with"):
            layers._FxRecorder.run = with_blocks if side == "with" else without_blocks
            records._cache.clear()
            if model != "nb201":
                forget_remembered_layers()  # the same network again: a first trace each time
            start = time.perf_counter()
            records.network_layers(name, batch_size, hf_config=hf_config)
            if i:  # the first pair pays first-call costs
                times[side].append(time.perf_counter() - start)
    ratios = [w / wo for w, wo in zip(times["with"], times["without"])]
    return {
        "pairs": pairs,
        "with_ms": 1e3 * float(np.median(times["with"])),
        "without_ms": 1e3 * float(np.median(times["without"])),
        "with_over_without": float(np.median(ratios)),
        "ratio_range": [float(min(ratios)), float(max(ratios))],
    }


def before_after(revision: str, cases: list[str], rounds: int = 3) -> dict:
    """Median meta trace times of `revision` and of this checkout, alternated case by case and round by
    round, so that a slow spell of the machine falls on both; the ratio is the median of per-round ratios."""
    import numpy as np

    root = HERE.parent
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "before"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), revision], check=True)
        try:
            times: dict[str, dict[str, list[float]]] = {case: {"before": [], "after": []} for case in cases}
            for _ in range(rounds):
                for case in cases:
                    for side, where in (("before", tree), ("after", None)):
                        entry = run_child("--child", case, "meta", tree=where)
                        if "median_ms" in entry:
                            times[case][side].append(entry["median_ms"])
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)
    summary = {"revision": revision, "rounds": rounds, "cases": {}}
    for case, sides in times.items():
        pairs = list(zip(sides["before"], sides["after"]))
        summary["cases"][case] = {
            **{f"{side}_ms": values for side, values in sides.items()},
            "after_over_before": float(np.median([after / before for before, after in pairs])) if pairs else None,
        }
        print(f"before/after {case}", json.dumps(summary["cases"][case]), flush=True)
    return summary


if __name__ == "__main__":
    main()
