"""Transfer across boards: `fit --prior` against fitting the new board's few networks alone.

    python bench/fit_prior.py [--draws 20] [--new-board "NVIDIA H200=bench/data/gpu_h200/zoo_gpu.parquet"]

No fleet of real boards has measured the zoo yet, so genuinely different
execution configurations of this machine stand in for boards, each measured
over the same zoo networks with its layers: two threads with glibc's
allocator (zoo.parquet), one thread with glibc's allocator (zoo_t1.parquet)
and one thread with the allocator pinned (zoo_steady.parquet). Leave one
configuration out: the others are the fleet; N of the held-out one's network
rows (N = 5, 10, drawn at random) are the new board's data; the rest of its
network rows score the result (MAPE, Spearman). Side by side on the same
draws: the network rows alone (`fit` without a prior), and both ways of
adapting the chosen fleet board's predictor that `fit --prior` picks between
by leave-one-out: scaled by the median ratio, or its network model refitted.

`--new-board LABEL=DATASET` adds a real board that has measured the same zoo networks (network rows are
enough): it is only ever the new board, with every configuration above as its fleet.

`--board LABEL=DATASET[,DATASET...]` (repeatable) replaces the three configurations above by boards of
your own, each given by its datasets (a folder stands for its `*.parquet`): for instance one default
`hwprof measure` run per model on each board (`bench/default_runs.py --data FOLDER`), which is what a
fleet collects without a recipe.

    python bench/fit_prior.py --board "Intel VM=bench/data/default_cache/pair3/cold" \
        --board "AMD VM=bench/data/default_amd/t2" --board "AMD VM, 1 thread=bench/data/default_amd/t1"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import DATA  # noqa: E402
from results_io import emit_markdown, heading, provenance  # noqa: E402

BOARDS = {  # configuration -> dataset
    "2 threads, glibc allocator": "zoo.parquet",
    "1 thread, glibc allocator": "zoo_t1.parquet",
    "1 thread, allocator pinned": "zoo_steady.parquet",
}
SIZES = (5, 10)
LABELS = ("fit --prior", "chosen board, scaled only", "chosen board, network model refitted", "network rows alone")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--family", default="polynomial", help="layer model family of the fleet's predictors")
    parser.add_argument("--out", default=str(HERE / "results" / "fit_prior.json"))
    parser.add_argument("--new-board", action="append", default=[], metavar="LABEL=DATASET")
    parser.add_argument("--seed", type=int, default=0, help="of the draws")
    parser.add_argument("--board", action="append", default=[], metavar="LABEL=DATASET[,DATASET...]")
    args = parser.parse_args()
    new_boards = dict(item.split("=", 1) for item in args.new_board)
    boards = (
        {label: _datasets(paths) for label, paths in (item.split("=", 1) for item in args.board)}
        if args.board
        else {board: [str(DATA / name)] for board, name in BOARDS.items()}
    )

    from hwprof.fitting.data import read_inputs, training_data
    from hwprof.fitting.pipeline import adapt_training_data, fit_training_data
    from hwprof.fitting.prior import adapt_from_fleet, fleet_predictors

    frames = {}
    for board, paths in boards.items():
        frame, sources = read_inputs(paths)
        frames[board] = (frame.assign(device_name=board), sources)
    results = {
        **provenance(),
        "boards": {**boards, **new_boards},
        "draws": args.draws,
        "held_out": {},
    }
    # each board's predictor is fitted once; a fleet is every board but the held-out one
    everyone = fleet_predictors(
        pd.concat([f for f, _ in frames.values()]),
        [s for _, sources in frames.values() for s in sources],
        args.family,
    )
    for board, path in new_boards.items():
        frame, sources = read_inputs([path])
        frames[board] = (frame.assign(device_name=board), sources)
    rng = np.random.default_rng(args.seed)
    for held, (frame, sources) in frames.items():
        networks = frame[frame["kind"] == "network"]
        data = training_data(networks, held, sources)
        y = data.targets["latency_ms"]
        fleet = {board: p for board, p in everyone.items() if board != held}  # a new board is in no fleet
        entry = {}
        for size in SIZES:
            scores = {label: [] for label in LABELS}
            chosen, hows = [], []
            for _ in range(args.draws):
                order = rng.permutation(len(y))
                train, test = order[:size], order[size:]
                subset = data.subset(train)
                prior = adapt_from_fleet(subset, fleet, cv=False)
                best = prior.doc["training"]["prior"]["boards"][0]
                chosen.append(best["device_name"])
                hows.append(prior.doc["training"]["prior"]["how"])
                test_features = data.networks.select(test)
                base = fleet[best["device_name"]]
                predictions = {
                    "fit --prior": _predict(prior, test_features),
                    "chosen board, scaled only": _predict(base, test_features) * best["scale"],
                    "chosen board, network model refitted": _predict(
                        adapt_training_data(base, subset, ["latency_ms"], cv=False), test_features
                    ),
                    "network rows alone": _predict(fit_training_data(subset, ["latency_ms"], cv=False), test_features),
                }
                for label, predicted in predictions.items():
                    scores[label].append(_score(predicted, y[test]))
            entry[str(size)] = {
                label: {key: float(np.mean([s[key] for s in values])) for key in ("mape", "spearman")}
                for label, values in scores.items()
            }
            entry[str(size)]["chosen"] = {board: chosen.count(board) for board in sorted(set(chosen))}
            entry[str(size)]["how"] = {how: hows.count(how) for how in sorted(set(hows))}
            print(held, size, entry[str(size)], file=sys.stderr)
        results["held_out"][held] = entry
    emit_markdown(results, markdown(results), args.out)


def _datasets(paths: str) -> list[str]:
    """Comma-separated datasets; a folder stands for its datasets (not their samples sidecars)."""
    from hwprof.dataset import without_sample_sidecars

    found = []
    for path in paths.split(","):
        folder = Path(path)
        found += (
            [str(p) for p in without_sample_sidecars(sorted(folder.glob("*.parquet")))] if folder.is_dir() else [path]
        )
    return found


def _brief(paths) -> str:
    paths = [paths] if isinstance(paths, str) else paths
    folders = sorted({str(Path(p).parent) for p in paths})
    return f"{len(paths)} datasets in {', '.join(folders)}" if len(paths) > 1 else paths[0]


def _predict(predictor, batch) -> np.ndarray:
    return predictor.predict_features(predictor.features_from_batch(batch), intervals=False)["latency_ms"]


def _score(predicted: np.ndarray, measured: np.ndarray) -> dict:
    return {
        "mape": float(np.mean(np.abs(predicted / measured - 1))),
        "spearman": float(stats.spearmanr(predicted, measured).statistic),
    }


def markdown(results: dict) -> str:
    lines = [
        *heading("Transfer across boards: `fit --prior`", results),
        "Boards: " + "; ".join(f"{board}: {_brief(paths)}" for board, paths in results["boards"].items()) + "  ",
        f"Machine: {results['machine']}; {results['draws']} draws per N, scored on the held-out board's other networks",
        "",
        "MAPE / Spearman on the held-out board's other networks (mean over draws):",
        "",
        "| held-out board | N | " + " | ".join(LABELS) + " | boards chosen | scaled / refitted |",
        "|---|---:|" + "---|" * (len(LABELS) + 2),
    ]
    for held, entry in results["held_out"].items():
        for size, scores in entry.items():
            cells = [f"{scores[label]['mape']:.1%} / {scores[label]['spearman']:.3f}" for label in LABELS]
            chosen = ", ".join(f"{board} x{count}" for board, count in scores["chosen"].items())
            how = f"{scores['how'].get('scaled', 0)} / {scores['how'].get('adapted', 0)}"
            lines.append(f"| {held} | {size} | " + " | ".join(cells) + f" | {chosen} | {how} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
