"""Data as a user collects it: one plain `hwprof measure MODEL --out MODEL.parquet` per model, defaults only.

    python bench/default_runs.py                 # measure (resumable), then summarise
    python bench/default_runs.py --summary-only  # the per-family layer-sum ratios of what is measured
    python bench/fit_accuracy.py --zoo bench/data/default/*.parquet --out bench/results/fit_accuracy_default.json
    python bench/default_runs.py --cache warm,cold --data /tmp/d  # each run in both modes, alternated, into
                                                                  # /tmp/d/warm and /tmp/d/cold
    python bench/default_runs.py --threads 1 --data /tmp/t1  # the same runs at one thread: another board for
                                                              # fit --prior (bench/fit_prior.py --board)
    python bench/default_runs.py --before REV --only nb201_1,mobilenet_v2 --data /tmp/d
        # each run with REV's code and this checkout's, alternated (the order flips run by run), into
        # /tmp/d/before and /tmp/d/after: what a change to measure's defaults does to the data
    python bench/default_runs.py --processes 3 --repeat 2 --only resnet18,nb201_1 --data /tmp/d
        # each run with one process and with three at the same time budget (--max-time 10 and 10/3), no
        # sweep in either, alternated, twice over, into /tmp/d/p1/run1, /tmp/d/p3/run1, .../run2: how far
        # reruns agree with and without --processes (bench/rerun_ceiling.py --root /tmp/d --campaigns p1 p3)

Every run is the README's quick start with another model: the default threads, precision, time budget and
allocator, and the layer sweep `measure` adds by default for the fit (its own share of each run). The
models are those of the benchmark recipe's families that a user would bring (AlexNet, VGG, ResNet,
MobileNetV2, SqueezeNet, four NAS-Bench-201 cells, the two ViTs) and two Hugging Face configs cut to
two layers (BERT and GPT-2 at their default width and sequence length). The fit benchmark then scores
them leave one family out, with and without the sweep rows, beside the recipe data's figures.
Each run holds /tmp/hwprof-bench.lock so timing runs do not overlap.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_measure_data import measure, nb201_archs  # noqa: E402

from hwprof.dataset import without_sample_sidecars  # noqa: E402
from hwprof.measuring.runner import Method  # noqa: E402

DATA = HERE / "data" / "default"
ZOO = (
    "alexnet",
    "vgg11",
    "vgg16",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "squeezenet1_0",
    "vit_tiny",
    "vit_small_patch",
)
RUNS: list[tuple[str, str, tuple[str, ...]]] = [  # (file stem, model, options)
    *((name, name, ()) for name in ZOO),
    *((f"nb201_{k}", f"nb201:{arch}", ()) for k, arch in enumerate(nb201_archs()[:4], 1)),
    ("hf_bert", "hf:bert", ("--hf-config", "num_hidden_layers=2")),
    ("hf_gpt2", "hf:gpt2", ("--hf-config", "n_layer=2")),
]


def layer_sum_ratios(paths: list[Path]) -> dict:
    """Per family: each network's measured latency over the sum of its measured layers; over all networks,
    the range of that ratio and its mean distance from 1; the fit sweep's share of each run; and the time
    the runs took, from their provenance."""
    from datetime import datetime

    import pandas as pd

    from hwprof.models.spec import family_of

    families: dict[str, list[float]] = {}
    shares = {}
    measure_s = 0.0
    for path in paths:
        frame = pd.read_parquet(path)
        for (model, batch), rows in frame.groupby(["model", "batch_size"]):
            network = rows[rows["kind"] == "network"]
            if len(network):
                ratio = float(network["latency_ms"].iloc[0] / rows[rows["kind"] == "layer"]["latency_ms"].sum())
                families.setdefault(family_of(str(model)), []).append(round(ratio, 3))
        runs = json.loads(Path(f"{path}.json").read_text())["runs"]
        shares[path.name] = runs[-1].get("fit_sweep")
        for run in runs:
            measure_s += (
                datetime.fromisoformat(run["end_time"]) - datetime.fromisoformat(run["start_time"])
            ).total_seconds()
    ratios = [ratio for values in families.values() for ratio in values]
    return {
        "network_over_layer_sum": families,
        "network_over_layer_sum_range": [min(ratios), max(ratios)] if ratios else None,
        "mean_distance_from_1": round(sum(abs(r - 1) for r in ratios) / len(ratios), 3) if ratios else None,
        "measure_s": measure_s,
        "fit_sweep": shares,
    }


@contextlib.contextmanager
def checkout(revision: str):
    """A worktree of `revision` whose hwprof imports its own drivers and sample models: the editable
    install maps those two subpackages to this checkout's folders, so the worktree links its own."""
    root = HERE.parent
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "before"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), revision], check=True)
        try:
            for package in ("drivers", "sample_models"):
                (tree / "hwprof" / package).symlink_to(tree / package)
            yield tree
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results" / "default_runs.json"))
    parser.add_argument("--data", default=str(DATA), help="folder of the datasets")
    parser.add_argument(
        "--cache",
        help="measure's --cache mode, or several (comma-separated): each model is then measured in each mode in "
        "turn, into a folder per mode under --data, so that the modes share the machine's state",
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="measure each run with the code of git revision REV and with this checkout's, alternated, into "
        "folders 'before' and 'after' under --data (the summary then compares those)",
    )
    parser.add_argument("--only", help="comma-separated runs to measure (file stems: nb201_1, mobilenet_v2, ...)")
    parser.add_argument(
        "--threads", type=int, help="measure's --threads for every run (the one option a deployment fixes)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="measure each run with one process and with this many (each with the default budget over this "
        "many), no sweep, into folders p1 and pN under --data",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure every run this many times (folders runK)")
    args = parser.parse_args()
    runs = RUNS
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {stem for stem, _, _ in RUNS})
        if unknown:
            parser.error(f"no run named {', '.join(unknown)}; runs: {', '.join(stem for stem, _, _ in RUNS)}")
        runs = [run for run in RUNS if run[0] in wanted]
    if args.before and args.cache and "," in args.cache:
        parser.error("--before compares two checkouts in one cache mode; give --cache one mode")
    if sum(bool(x) for x in (args.before, args.processes, args.cache and "," in args.cache)) > 1:
        parser.error("give one of --before, --processes and several --cache modes")
    if args.before:  # two checkouts, one cache mode
        options = {side: ("--cache", args.cache) if args.cache else () for side in ("before", "after")}
    elif args.processes:  # equal time budget: the default --max-time, split between the processes
        budget_s = Method().max_item_s
        cache = ("--cache", args.cache) if args.cache else ()
        options = {
            f"p{n}": ("--sweep-share", "0", "--processes", str(n), "--max-time", f"{budget_s / n:g}", *cache)
            for n in (1, args.processes)
        }
    else:  # one checkout, a cache mode per folder
        options = {mode: ("--cache", mode) for mode in args.cache.split(",")} if args.cache else {None: ()}
    threads = ("--threads", str(args.threads)) if args.threads else ()
    modes = list(options)
    if args.repeat > 1:  # a folder per mode and repeat: (mode, k) -> DATA/mode/runK
        folders = {
            (mode, k): Path(args.data) / (mode or "") / f"run{k}" for k in range(1, args.repeat + 1) for mode in modes
        }
    else:
        folders = {(mode, 1): Path(args.data) / mode if len(modes) > 1 else Path(args.data) for mode in modes}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    if not args.summary_only:
        with checkout(args.before) if args.before else contextlib.nullcontext() as tree:
            for k, (stem, model, run_options) in enumerate(runs):
                order = list(folders.items())
                if len(modes) > 1 and k % 2:
                    order.reverse()  # each mode first in turn: neither side always runs second
                for (mode, _), folder in order:
                    env, cwd = ({**os.environ, "PYTHONPATH": str(tree)}, tree) if mode == "before" else (None, None)
                    out = (folder / f"{stem}.parquet").resolve()
                    measure([model], out, *run_options, *threads, *options[mode], default_sweep=True, env=env, cwd=cwd)
    summary: dict = {"command": " ".join(["python", *sys.argv])}
    kind = "checkout" if args.before else "processes" if args.processes else "cache"
    for folder in folders.values():
        paths = without_sample_sidecars(sorted(folder.glob("*.parquet")))
        found = {"data": str(folder), "runs": [p.name for p in paths], **layer_sum_ratios(paths)}
        name = str(folder.relative_to(args.data))
        if len(folders) == 1:
            summary.update(found)
        else:
            summary.setdefault(kind, {})[name] = found
        print(name, json.dumps(found["network_over_layer_sum"], indent=1))
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
