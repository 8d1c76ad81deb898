"""`predict_many` of new NAS-Bench-201 cells, composed against built and traced, side by side in one run.

    flock /tmp/hwprof-bench.lock python bench/predict_many_nb201.py [--cells 100] [--rounds 3]

A predictor is fitted once on bench/data/zoo.parquet (polynomial, no cross-validation). Each round
predicts `--cells` cells never seen before in the process twice: once as `predict` does (layers composed
from the cell's plan, hwprof.predictor.nb201) and once with the composition switched off (each network
built and traced on meta, as before), alternating which goes first. One thread.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "predict_many_nb201.json"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from hwprof.fitting.fit import fit
    from hwprof.predictor import records
    from hwprof.sample_models.nb201 import random_arch

    predictor = fit([str(HERE / "data" / "zoo.parquet")], family="polynomial", cv=False)
    composed_path = records._composed_nb201
    rng = random.Random(5)
    predictor.predict_many(["nb201:" + random_arch(rng)])  # first use: reference traces, imports
    times: dict[str, list[float]] = {"composed": [], "built": []}
    for round_ in range(args.rounds):
        order = ("composed", "built") if round_ % 2 == 0 else ("built", "composed")
        for way in order:
            cells = ["nb201:" + random_arch(rng) for _ in range(args.cells)]
            records._composed_nb201 = composed_path if way == "composed" else (lambda *a, **k: None)
            try:
                start = time.perf_counter()
                frame = predictor.predict_many(cells)
                times[way].append(time.perf_counter() - start)
            finally:
                records._composed_nb201 = composed_path
            assert len(frame) == args.cells
    ratios = [c / b for c, b in zip(times["composed"], times["built"])]
    result = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cells": args.cells,
        "seconds": times,
        "composed_over_built": statistics.median(ratios),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
