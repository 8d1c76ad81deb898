"""One column of `bench/fit_prior.py`, draw by draw: which draws move a mean, and at which commit.

    python bench/fit_prior_draws.py --held-out "NVIDIA H200" --size 5 --column "network rows alone"
    python bench/fit_prior_draws.py --held-out "2 threads, glibc allocator" --size 10 --column "chosen board, network model refitted"

The draws are fit_prior.py's (seed 0, with the boards before the held-out one drawing first), so each mean
equals that table's cell. Run with an earlier commit's hwprof on PYTHONPATH (a git worktree) to see which
commit moved a draw. The H200 is the new board of the transfer table (bench/data/gpu_h200/zoo_gpu.parquet).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import DATA  # noqa: E402
from fit_prior import BOARDS, SIZES, _predict  # noqa: E402

H200 = "NVIDIA H200"
COLUMNS = ("network rows alone", "chosen board, network model refitted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", required=True, choices=[*BOARDS, H200])
    parser.add_argument("--size", type=int, required=True, choices=SIZES)
    parser.add_argument("--column", required=True, choices=COLUMNS)
    parser.add_argument("--draws", type=int, default=20)
    args = parser.parse_args()

    from hwprof.fitting.data import read_inputs, training_data
    from hwprof.fitting.pipeline import adapt_training_data, fit_training_data
    from hwprof.fitting.prior import adapt_from_fleet, fleet_predictors

    frames = {}
    for board, name in BOARDS.items():
        frame, sources = read_inputs([str(DATA / name)])
        frames[board] = (frame.assign(device_name=board), sources)
    fleet_all = None
    if args.column != COLUMNS[0]:
        fleet_all = fleet_predictors(
            pd.concat([f for f, _ in frames.values()]), [s for _, ss in frames.values() for s in ss], "polynomial"
        )
    if args.held_out == H200:
        frame, sources = read_inputs([str(DATA / "gpu_h200" / "zoo_gpu.parquet")])
        frames[H200] = (frame.assign(device_name=H200), sources)
    rng = np.random.default_rng(0)
    scores = []
    for board, (frame, sources) in frames.items():  # fit_prior.py's order: every board's draws come first
        data = training_data(frame[frame["kind"] == "network"], board, sources)
        y = data.targets["latency_ms"]
        for size in SIZES:
            for _ in range(args.draws):
                order = rng.permutation(len(y))
                if board != args.held_out or size != args.size:
                    continue
                train, test = order[:size], order[size:]
                subset = data.subset(train)
                if args.column == COLUMNS[0]:
                    predictor = fit_training_data(subset, ["latency_ms"], cv=False)
                else:
                    fleet = {b: p for b, p in fleet_all.items() if b != board}
                    best = adapt_from_fleet(subset, fleet, cv=False).doc["training"]["prior"]["boards"][0]
                    predictor = adapt_training_data(fleet[best["device_name"]], subset, ["latency_ms"], cv=False)
                scores.append(float(np.mean(np.abs(_predict(predictor, data.networks.select(test)) / y[test] - 1))))
                names = ", ".join(data.networks.names[i] for i in train)
                print(f"draw {len(scores) - 1}: {scores[-1]:.1%} ({names})")
    print(f"mean {np.mean(scores):.1%} over {len(scores)} draws")


if __name__ == "__main__":
    main()
