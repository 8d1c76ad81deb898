"""Two separate `hwprof measure` runs of one model: how well do per-layer medians agree?

Reports the median and 90th percentile of |ratio - 1| over unique layer configurations
(matched by config_id). Targets: <= 2% median, <= 5% p90.

    python bench/measure_reproducibility.py --model resnet18 --out bench/results/reproducibility.json
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from results_io import emit


def run_once(model: str, out: Path, extra: list[str]) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hwprof", "measure", model, "--out", str(out), "--quiet",
                    "--power", "none", *extra], check=True)
    return pd.read_parquet(out), time.perf_counter() - start


def agreement(first: pd.DataFrame, second: pd.DataFrame) -> dict:
    def per_config(frame):
        layers = frame[frame["kind"] == "layer"]
        return layers.groupby("config_id")["latency_ms"].first()

    a, b = per_config(first), per_config(second)
    common = a.index.intersection(b.index)
    deviation = (a[common] / b[common] - 1).abs().to_numpy()
    return {"configs": int(len(common)), "median_abs_dev": float(np.median(deviation)),
            "p90_abs_dev": float(np.percentile(deviation, 90)), "max_abs_dev": float(deviation.max())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--out", default=None)
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        first, first_s = run_once(args.model, Path(tmp) / "a.parquet", extra)
        second, second_s = run_once(args.model, Path(tmp) / "b.parquet", extra)
    result = {"model": args.model, "extra_args": extra, "run_wall_s": [first_s, second_s],
              "mean_other_cpu_share": [float(first["other_cpu_share"].mean()), float(second["other_cpu_share"].mean())],
              "stable_share": float(pd.concat([first, second])["stable"].astype(bool).mean()),
              **agreement(first, second)}
    emit(result, args.out)


if __name__ == "__main__":
    main()
