"""Mixture-of-experts decoders traced for prediction on meta tensors: Mixtral-8x7B without its 47 B weights.

    flock /tmp/hwprof-bench.lock python bench/moe_meta_trace.py [--before REV] [--predictor PREDICTOR]

(a PREDICTOR from `hwprof fit bench/data/default/*.parquet --out PREDICTOR`: no MoE layer was measured in it, so
its latencies say only that the prediction runs; the figures here are the trace's cost).

Each case runs in a fresh process, single-threaded: an untimed warm-up on a one-layer config of the same
architecture (it imports the model's code), then `repeats` new traces through
hwprof.predictor.records.network_layers, what `hwprof predict` calls (its cache cleared and recalled layers
forgotten each time), and with --predictor the same through Predictor.predict (trace + predict); the median
time, where the trace ran (meta or real, and why), the experts' MACs against tokens x top_k rows through one
expert each, and the process's peak resident memory (ru_maxrss). With --before REV the trace is also run with
that commit's hwprof (a temporary git worktree): before the grouped matmul was made on meta, torch's meta
kernel refused it in float32 and prediction went to real tensors, which at these sizes do not fit.
Cases, batch 1 and 128 tokens: hf:mixtral's default config (Mixtral-8x7B: width 4096, 32 layers, 8 experts of
14336, top 2) and hf:qwen2_moe's (Qwen1.5-MoE-A2.7B: width 2048, 24 layers, 60 experts of 1408, top 4, and a
shared expert of 5632).
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: the configs are transformers' defaults

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = {"mixtral_8x7b": "hf:mixtral", "qwen1_5_moe_a2_7b": "hf:qwen2_moe"}
BATCH, TOKENS, REPEATS = 1, 128, 3
# The warm-up's config: small, so that the side before the change, which traces it on real tensors, allocates little
SMALL = {"num_hidden_layers": 1, "hidden_size": 64, "num_attention_heads": 2, "num_key_value_heads": 2}
SMALL |= {
    "vocab_size": 1000,
    "intermediate_size": 128,
    "moe_intermediate_size": 64,
    "shared_expert_intermediate_size": 64,
}


def child(case: str, predictor_path: str | None) -> dict:
    """Trace (and with a predictor, trace + predict) one case `REPEATS` times in this process."""
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from hwprof.models import recall
    from hwprof.models.spec import resolve_model
    from hwprof.predictor import records

    model = CASES[case]
    with torch.device("meta"):
        module = resolve_model(model).module
    config = module.config
    entry: dict = {"parameters_b": sum(p.numel() for p in module.parameters()) / 1e9}
    del module
    warm_up = {key: value for key, value in SMALL.items() if hasattr(config, key)}
    records.network_layers(model, BATCH, seq_len=TOKENS, hf_config=warm_up)  # imports, untimed
    rss_after_warm_up_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, traced = [], None
    for _ in range(REPEATS):
        records._cache.clear()
        recall.forget()
        start = time.perf_counter()
        try:
            traced = records.network_layers(model, BATCH, seq_len=TOKENS)
        except Exception as error:
            return {**entry, "failed": f"{type(error).__name__}: {error}", "seconds": time.perf_counter() - start}
        times.append(time.perf_counter() - start)
    top_k = config.num_experts_per_tok
    intermediate = getattr(config, "moe_intermediate_size", None) or config.intermediate_size
    expected = config.num_hidden_layers * BATCH * TOKENS * top_k * 3 * config.hidden_size * intermediate
    grouped = sum(r.flops for r in traced.records if r.op == "groupedmm")
    entry |= {
        "traced_on": traced.traced_on,
        "note": traced.note,
        "layers": len(traced.records),
        "trace_median_s": float(np.median(times)),
        "trace_s": times,
        "experts_gmac": grouped / 1e9,
        "experts_gmac_even_routing": expected / 1e9,
        "rss_after_warm_up_mb": rss_after_warm_up_mb,
    }
    if predictor_path:
        from hwprof.predictor.predictor import load_predictor

        predictor = load_predictor(predictor_path)
        predictor.predict(model, BATCH, seq_len=TOKENS, hf_config=warm_up)  # untimed
        predict_times = []
        for _ in range(REPEATS):
            records._cache.clear()
            recall.forget()
            start = time.perf_counter()
            prediction = predictor.predict(model, BATCH, seq_len=TOKENS)
            predict_times.append(time.perf_counter() - start)
        entry |= {
            "trace_and_predict_median_s": float(np.median(predict_times)),
            "predicted_latency_ms": prediction.total["latency_ms"],
            "predicted_on": prediction.traced_on,
        }
    entry["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return entry


def run_child(case: str, predictor: str | None, tree: Path | None = None) -> dict:
    """This script's child in a fresh process; with `tree`, importing that checkout's hwprof."""
    env = os.environ if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, __file__, "--child", case] + (["--predictor", predictor] if predictor else [])
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        return {"child_failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--predictor", help="also time trace + predict with this predictor.json")
    parser.add_argument("--before", metavar="REV", help="also trace with this commit's hwprof")
    parser.add_argument("--out", default=str(HERE / "results" / "moe_meta_trace.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.predictor)))
        return

    from hwprof.drivers.host import available_memory_bytes, cpu_model

    results = {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {available_memory_bytes() / 1e9:.1f} GB available",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "batch_size": BATCH,
        "tokens": TOKENS,
        "threads": 1,
        "load_average_1_5_15_min": os.getloadavg(),
        "cases": {},
    }
    for case in CASES:
        results["cases"][case] = {"after": run_child(case, args.predictor)}
        print(case, "after", json.dumps(results["cases"][case]["after"]), flush=True)
    if args.before:
        root = HERE.parent
        with tempfile.TemporaryDirectory() as folder:
            tree = Path(folder) / "before"
            subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), args.before], check=True)
            try:
                for case in CASES:
                    results["cases"][case]["before"] = {"revision": args.before, **run_child(case, None, tree)}
                    print(case, "before", json.dumps(results["cases"][case]["before"]), flush=True)
            finally:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
