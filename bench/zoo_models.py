"""The models people deploy, measured as they run: zoo models in float32 and bfloat16, with the time
`hwprof measure` took for each.

    python bench/zoo_models.py                       # the full set (tens of minutes on a small CPU)
    python bench/zoo_models.py --tiny                # smaller sizes of the same families, networks only
    python bench/zoo_models.py --dtypes float32 --models torchvision:resnet50
    python bench/zoo_models.py --device cuda --dtypes float32 float16 bfloat16 --power nvml --keep DIR

The full set is torchvision:resnet50, timm:convnext_tiny, hf:bert (BERT-base, sequence 128) and a small
Llama (4 layers of width 512, sequence 128), each in float32 and bfloat16, layers and networks. Each
(model, dtype) runs `hwprof measure` in a process of its own; the figures are its network row (median,
p90, p99, samples), the sum of its layers against the network, and the measure time per model, written to
bench/results/zoo_models.json and printed as a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SMALL_LLAMA = (
    "num_hidden_layers=4,hidden_size=512,intermediate_size=1408,num_attention_heads=8,num_key_value_heads=8,head_dim=64"
)
FULL = [
    ("torchvision:resnet50", []),
    ("timm:convnext_tiny", []),
    ("hf:bert", ["--seq-len", "128"]),
    ("hf:llama", ["--seq-len", "128", "--hf-config", SMALL_LLAMA]),
]
TINY = [
    ("torchvision:resnet18", []),
    ("timm:convnext_atto", []),
    ("hf:bert", ["--seq-len", "32", "--hf-config", "num_hidden_layers=2,hidden_size=128,num_attention_heads=2"]),
    (
        "hf:llama",
        [
            "--seq-len",
            "32",
            "--hf-config",
            "num_hidden_layers=1,hidden_size=128,num_attention_heads=2,"
            "num_key_value_heads=2,head_dim=64,intermediate_size=256",
        ],
    ),
]


def measure(model: str, extra: list[str], dtype: str, args, folder: Path) -> list[dict]:
    mode = "_compiled" if args.compile else "_nhwc" if args.channels_last else ""
    out = folder / f"{model.replace(':', '_').replace('/', '_')}_{dtype}{mode}.parquet"
    command = [sys.executable, "-m", "hwprof", "measure", model, *extra, "--dtype", dtype, "--out", str(out)]
    command += ["--sweep-share", "0"]  # the model alone: its measure time is the figure
    command += ["--power", args.power, "--quiet", "--precision", str(args.precision), "--max-time", str(args.max_time)]
    command += ["--device", args.device, "--batch-size", args.batch_size]
    command += ["--threads", str(args.threads)] if args.threads else []
    command += ["--no-layers"] if args.no_layers else []
    command += ["--compile"] if args.compile else []
    command += ["--channels-last"] if args.channels_last else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    measure_s = time.perf_counter() - start
    if done.returncode != 0:
        last = ((done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return [{"model": model, "dtype": dtype, "mode": mode.strip("_") or "eager", "error": last}]
    frame = pd.read_parquet(out)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        for path in folder.glob(out.stem + ".parquet*"):
            shutil.copy(path, Path(args.keep) / path.name)
    return [_row(network, frame, dtype, mode, measure_s) for _, network in _networks(frame).iterrows()]


def _networks(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["kind"] == "network"].sort_values(["batch_size", "seq_len"])


def _row(network: pd.Series, frame: pd.DataFrame, dtype: str, mode: str, measure_s: float) -> dict:
    """One network row of a run, with the sum of its layers at the same batch and sequence length."""
    same = (frame["batch_size"] == network["batch_size"]) & (frame["seq_len"].isna() == pd.isna(network["seq_len"]))
    if not pd.isna(network["seq_len"]):
        same &= frame["seq_len"] == network["seq_len"]
    layers = frame[(frame["kind"] == "layer") & same]
    layer_sum = float(layers["latency_ms"].sum()) if len(layers) else None
    return {
        "model": str(network["model"]),
        "dtype": dtype,
        "mode": mode.strip("_") or "eager",
        "batch_size": int(network["batch_size"]),
        "seq_len": None if pd.isna(network["seq_len"]) else int(network["seq_len"]),
        "latency_ms": float(network["latency_ms"]),
        "latency_ms_p90": float(network["latency_ms_p90"]),
        "latency_ms_p99": float(network["latency_ms_p99"]),
        "samples": int(network["samples"]),
        "stable": bool(network["stable"]),
        "layers": int(len(layers)),
        "network_over_layer_sum": float(network["latency_ms"]) / layer_sum if layer_sum else None,
        "gmac": float(network["flops"]) / 1e9,
        "power_w": _number(network.get("power_w")),
        "energy_mj": _number(network.get("energy_mj")),
        "measure_s": measure_s,
    }


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _gpu_name(device: str) -> str | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.get_device_name(torch.device(device)) if torch.cuda.is_available() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="smaller models of the same families, networks only")
    parser.add_argument("--models", nargs="*", default=None, help="zoo models (default: the set above)")
    parser.add_argument("--dtypes", nargs="*", default=["float32", "bfloat16"])
    parser.add_argument("--precision", type=float, default=0.02)
    parser.add_argument("--max-time", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-layers", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", default="1", help="comma-separated; the table shows the first")
    parser.add_argument("--power", default="none", help="a sensor adds power and energy to the table")
    parser.add_argument("--compile", action="store_true", help="networks through torch.compile")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--keep", default=None, help="copy each dataset into this folder")
    parser.add_argument("--out", default=str(HERE / "results" / "zoo_models.json"))
    args = parser.parse_args()
    chosen = TINY if args.tiny else FULL
    if args.models:
        sizes = dict(TINY + FULL) if not args.tiny else dict(FULL + TINY)  # the set asked for wins a name both have
        chosen = [(m, sizes.get(m, [])) for m in args.models]
    if args.tiny:
        args.no_layers, args.max_time, args.precision = True, min(args.max_time, 2.0), max(args.precision, 0.05)
    from hwprof.drivers.host import describe_cpu

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for model, extra in chosen:
            for dtype in args.dtypes:
                for result in measure(model, extra, dtype, args, Path(folder)):
                    print(json.dumps(result), flush=True)
                    results.append(result)
    document = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "cpu": describe_cpu(),
        "device": args.device,
        "gpu": _gpu_name(args.device),
        "torch_threads": args.threads,
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=2))
    print("\n| model | dtype | mode | batch | seq | latency ms | p90 ms | p99 ms | samples | network / layer sum | GMAC "
          "| power W | energy mJ | measure s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['model']} | {r['dtype']} | error: {r['error']} |||||||||||")
            continue
        ratio = f"{r['network_over_layer_sum']:.2f}" if r["network_over_layer_sum"] else "-"
        print(
            f"| {r['model']} | {r['dtype']} | {r['mode']} | {r['batch_size']} | {r['seq_len'] or '-'} "
            f"| {r['latency_ms']:.3f} | {r['latency_ms_p90']:.3f} | {r['latency_ms_p99']:.3f} | {r['samples']} | {ratio} "
            f"| {r['gmac']:.2f} | {_figure(r['power_w'], 1)} | {_figure(r['energy_mj'], 3)} | {r['measure_s']:.0f} |"
        )


def _figure(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    main()
