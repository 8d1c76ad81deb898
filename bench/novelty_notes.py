"""What a prediction says about how far it lies from the training data, this checkout against another.

    python bench/novelty_notes.py --before REV [--data A.parquet ...] [--hold-out mobilenet] [--out OUT.json]

Both checkouts fit the same datasets (by default the cold default runs of `bench/data/default_cache/pair3`
and round 2 of `bench/data/default_sweep_ops`) twice, with every family and without one (--hold-out), and
report, per network: the share of its predicted time no training row covered, what the note names as its
cause (where the checkout names one) and whether it is flagged outside the training data; resnet18 also at
batch sizes no dataset measured. From the fit on every family: the predicted GELU layers of GPT-2 and BERT
against their measured times, and the time of one `novelty` call on 50 NB-201 cells and resnet50 (single
thread; a timing, so run it with nothing else on the machine). Each checkout runs in its own process.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_io import emit_markdown  # noqa: E402

DEFAULT_RUNS = [
    str(HERE / "data/default_cache/pair3/cold" / f"{name}.parquet")
    for name in "alexnet hf_bert hf_gpt2 resnet18 resnet50 squeezenet1_0 vgg11 vgg16 vit_small_patch vit_tiny".split()
]
DEFAULT_RUNS += sorted(
    path for path in glob.glob(str(HERE / "data/default_sweep_ops/run2/after/*.parquet")) if "samples" not in path
)
EXTRA_BATCHES = (8, 64)  # resnet18 at batch sizes none of the default runs measured
GELU_MODELS = ("hf:gpt2:n_layer=2", "hf:bert:num_hidden_layers=2")  # measured at seq_len 128
NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def _cells(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    cells = []
    for _ in range(count):
        o = [rng.choice(NB201_OPS) for _ in range(6)]
        cells.append(f"nb201:|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")
    return cells


def _novelty(prediction) -> dict:
    novelty = prediction.novelty
    return {
        "uncovered_share": round(float(novelty["uncovered_share"]), 4),
        "uncovered_by": novelty.get("uncovered_by"),  # absent where the checkout names no cause
        "outside": bool(novelty["outside"]),
    }


def worker(data: list[str], hold_out: str, out: str) -> None:
    """Fit and predict with whatever hwprof this process imports; write what it found to `out`."""
    import pandas as pd
    import torch

    from hwprof.fitting.fit import fit
    from hwprof.predictor.predictor import load_predictor

    torch.set_num_threads(1)
    frames = {path: pd.read_parquet(path) for path in data}
    networks = set()
    for frame in frames.values():
        rows = frame[frame.kind == "network"]
        for model, batch, seq_len in zip(rows["model"], rows["batch_size"], rows["seq_len"]):
            networks.add((model, int(batch), None if pd.isna(seq_len) else int(seq_len)))
    found: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        fits = (("all", data), (f"without {hold_out}", [p for p in data if hold_out not in Path(p).name]))
        for k, (label, paths) in enumerate(fits):
            path = Path(folder) / f"predictor{k}.json"
            fit(paths, path, cv=False)
            predictor = load_predictor(path)
            rows = {}
            for model, batch, seq_len in sorted(networks, key=str):
                how = {"seq_len": seq_len} if seq_len else {}
                rows[f"{model} batch {batch}"] = _novelty(predictor.predict(model, batch_size=batch, **how))
            for batch in EXTRA_BATCHES:
                rows[f"resnet18 batch {batch}"] = _novelty(predictor.predict("resnet18", batch_size=batch))
            found[label] = rows
            if label != "all":
                continue
            gelu = {}
            for name in GELU_MODELS:
                prediction = predictor.predict(name, seq_len=128)
                layers = prediction.layers[prediction.layers["op"] == "gelu"]
                layer_rows = [f[(f.kind == "layer") & (f.op == "gelu") & (f.model == name)] for f in frames.values()]
                measured = pd.concat(layer_rows)["latency_ms"]
                gelu[name] = {
                    "predicted_ms": round(float(layers["latency_ms"].iloc[0]), 4),
                    "measured_ms": round(float(measured.median()), 4),
                }
            found["gelu"] = gelu
            features = predictor.features([*_cells(50), "resnet50"], 1)
            predictor.novelty(features)  # warm
            calls = 50
            start = time.perf_counter()
            for _ in range(calls):
                predictor.novelty(features)
            found["novelty_ms_per_call"] = round((time.perf_counter() - start) / calls * 1e3, 3)
            found["novelty_networks"] = len(features)
            found["novelty_unique_layers"] = len(features.batch.layers)
    Path(out).write_text(json.dumps(found, indent=2))


def _run_side(tree: Path | None, data: list[str], hold_out: str, out: Path) -> dict:
    command = [sys.executable, __file__, "--worker", "--hold-out", hold_out, "--out", str(out), "--data", *data]
    env = {**os.environ, "PYTHONPATH": str(tree)} if tree else None
    subprocess.run(command, check=True, cwd=tree or HERE.parent, env=env)
    return json.loads(out.read_text())


def _table(result: dict) -> str:
    before, after = result["before"], result["after"]
    lines = [
        f"### What a prediction says about the training data ({result['date']})",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine']}",
        "",
        f"| fit | network | uncovered, {result['revision']} | uncovered, this checkout | outside (before / now) | named cause, this checkout |",
        "|---|---|---:|---:|---|---|",
    ]
    for label in after:
        if not isinstance(after[label], dict) or label in ("gelu",):
            continue
        for network, now in after[label].items():
            then = before.get(label, {}).get(network, {})
            lines.append(
                f"| {label} | {network[:60]} | {then.get('uncovered_share', float('nan')):.1%} | "
                f"{now['uncovered_share']:.1%} | {then.get('outside')} / {now['outside']} | {now.get('uncovered_by') or ''} |"
            )
    lines += [
        "",
        "| GELU layer [1,128,3072] | measured ms | predicted ms, before | predicted ms, this checkout |",
        "|---|---:|---:|---:|",
    ]
    for name, now in after["gelu"].items():
        lines.append(
            f"| {name} | {now['measured_ms']} | {before['gelu'][name]['predicted_ms']} | {now['predicted_ms']} |"
        )
    lines += [
        "",
        f"`novelty` per call on {after['novelty_networks']} networks ({after['novelty_unique_layers']} unique layers): "
        f"{before['novelty_ms_per_call']} ms before, {after['novelty_ms_per_call']} ms this checkout.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="the revision to compare this checkout with")
    parser.add_argument("--data", nargs="+", default=DEFAULT_RUNS, help="datasets to fit (default: the default runs)")
    parser.add_argument("--hold-out", default="mobilenet", help="fit once more without the datasets of this name")
    parser.add_argument("--out", default=str(HERE / "results/novelty_notes.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.data, args.hold_out, args.out)
        return
    if not args.before:
        parser.error("give --before REV: the checkout to compare with")
    from default_runs import checkout

    with tempfile.TemporaryDirectory() as folder, checkout(args.before) as tree:
        after = _run_side(None, args.data, args.hold_out, Path(folder) / "after.json")
        before = _run_side(tree, args.data, args.hold_out, Path(folder) / "before.json")
    result = {
        "command": "python bench/novelty_notes.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "revision": args.before,
        "before": before,
        "after": after,
    }
    emit_markdown(result, _table(result), args.out)


if __name__ == "__main__":
    main()
