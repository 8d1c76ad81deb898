"""Predicting networks built of torch.nn's recurrent layers and Transformer blocks: time and counted MACs,
this checkout against an earlier commit, side by side.

    python bench/recurrent_predict.py [--before REV] [--repeats 5] [--out bench/results/recurrent_predict.json]

A predictor is fitted once (network and layer rows of the default runs in bench/data/default, no
cross-validation). Each side then runs in a fresh process, single-threaded: it loads the predictor, warms
up on `mlp`, and for each case predicts a new module object `--repeats` times (the first call of a shape,
then its repeats, which may recall what the first traced) and records the median and first-call times and
the MACs the prediction's layers count. The counted MACs are checked against a hand count: an LSTM's
4 gates x (input + hidden) x hidden per step and layer, a Transformer encoder layer's projections,
attention products and feed-forward.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from default_runs import checkout  # noqa: E402
from results_io import emit_markdown, heading, provenance  # noqa: E402

# case -> (what it is, sequence length); every case is batch 1
CASES = {
    "lstm_32": ("nn.LSTM(32, 128), 32 steps", 32),
    "lstm_128": ("nn.LSTM(32, 128), 128 steps", 128),
    "lstm_512": ("nn.LSTM(32, 128), 512 steps", 512),
    "gru_128": ("nn.GRU(32, 128, num_layers=2), 128 steps", 128),
    "encoder_128": ("nn.TransformerEncoder(2 x (d 64, 4 heads, ff 256)), 128 tokens", 128),
}


def build(case: str):
    """A new module object of the case and its example input."""
    import torch
    from torch import nn

    steps = CASES[case][1]
    if case.startswith("lstm"):
        return nn.LSTM(32, 128, batch_first=True), torch.randn(1, steps, 32)
    if case.startswith("gru"):
        return nn.GRU(32, 128, num_layers=2, batch_first=True), torch.randn(1, steps, 32)
    layer = nn.TransformerEncoderLayer(64, 4, 256, batch_first=True, dropout=0.0)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval(), torch.randn(1, steps, 64)


def hand_macs(case: str) -> int:
    steps = CASES[case][1]
    if case.startswith("lstm"):
        return 4 * (32 + 128) * 128 * steps
    if case.startswith("gru"):
        return 3 * ((32 + 128) + (128 + 128)) * 128 * steps
    d, ff = 64, 256
    per_layer = 4 * steps * d * d + 2 * steps * steps * d + 2 * steps * d * ff  # q,k,v,out; QK^T, AV; feed-forward
    return 2 * per_layer


def child(predictor_path: str, repeats: int) -> dict:
    import torch

    from hwprof.predictor.predictor import load_predictor

    torch.set_num_threads(1)
    predictor = load_predictor(predictor_path)
    predictor.predict("mlp")  # imports, untimed
    results = {}
    for case in CASES:
        times, macs = [], None
        for _ in range(repeats):
            module, example = build(case)
            started = time.perf_counter()
            prediction = predictor.predict((module, example))
            times.append(time.perf_counter() - started)
            macs = int(prediction.layers["flops"].sum())
        results[case] = {"first_ms": 1e3 * times[0], "median_ms": 1e3 * statistics.median(times), "macs": macs}
    return results


def run_child(predictor_path: Path, repeats: int, tree: Path | None = None) -> dict:
    env = os.environ if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(predictor_path), str(repeats)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode:
        return {"failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--before", help="an earlier commit, timed in a temporary git worktree")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "results" / "recurrent_predict.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return

    import hwprof

    results = provenance()
    with tempfile.TemporaryDirectory() as folder:
        predictor_path = Path(folder) / "predictor.json"
        data = sorted(str(path) for path in (HERE / "data" / "default").glob("*.parquet"))
        hwprof.fit(data, cv=False).save(predictor_path)
        results["now"] = run_child(predictor_path, args.repeats)
        if args.before:
            with checkout(args.before) as tree:
                results["before"] = run_child(predictor_path, args.repeats, tree)
    results["before_revision"] = args.before
    lines = heading("Predicting recurrent and Transformer blocks", results)
    lines += ["", f"Machine: {results['machine']}, one thread", ""]
    before = results.get("before", {})
    lines += [
        "| case | MACs by hand | MACs counted, before | MACs counted, now | median ms, before | median ms, now "
        "| now / before | first call ms, before / now |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case, (what, _) in CASES.items():
        now, old = results["now"].get(case, {}), before.get(case, {})

        def cell(side: dict, key: str, form: str) -> str:
            return format(side[key], form) if key in side else "-"

        ratio = f"{now['median_ms'] / old['median_ms']:.3f}" if "median_ms" in now and "median_ms" in old else "-"
        lines.append(
            f"| {what} | {hand_macs(case):,} | {cell(old, 'macs', ',')} | {cell(now, 'macs', ',')} "
            f"| {cell(old, 'median_ms', '.2f')} | {cell(now, 'median_ms', '.2f')} | {ratio} "
            f"| {cell(old, 'first_ms', '.1f')} / {cell(now, 'first_ms', '.1f')} |"
        )
    if "failed" in results["now"] or "failed" in before:
        lines += ["", f"failed: {results['now'].get('failed') or before.get('failed')}"]
    emit_markdown(results, "\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
