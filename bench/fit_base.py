"""`hwprof fit NEW --base BASE` between whole default-run boards, as a user adapts a predictor to a new board.

    python bench/fit_base.py [--board LABEL=FOLDER ...] [--out bench/results/fit_base.json]

Each board is one folder of default `hwprof measure` runs (one dataset per model). Every board's own
predictor is fitted once (`hwprof fit`, cross-validated); then every other board's networks adapt it
(`fit --base`, its leave-one-family-out validation on the new board's networks). The table gives, per
(base, new board) pair, the adapted predictor's held-out network MAPE beside the base's layer sum as it
is (the same folds), and which simplest candidate the fit took. Accuracy only: timings are not recorded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_io import emit_markdown, heading, provenance  # noqa: E402

BOARDS = {
    "Intel Xeon VM, 2 threads": "bench/data/default",
    "AMD EPYC VM, 2 threads": "bench/data/default_amd/t2",
    "AMD EPYC VM, 1 thread": "bench/data/default_amd/t1",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", action="append", default=[], metavar="LABEL=FOLDER")
    parser.add_argument("--out", default=str(HERE / "results" / "fit_base.json"))
    args = parser.parse_args()
    boards = dict(item.split("=", 1) for item in args.board) if args.board else BOARDS

    from hwprof.dataset import without_sample_sidecars
    from hwprof.fitting.fit import fit

    def datasets(folder: str) -> list[str]:
        # the defaults are named from the repository's root (as the results record them), wherever this runs
        where = HERE.parent / folder if not Path(folder).is_absolute() and not Path(folder).is_dir() else Path(folder)
        found = [str(p) for p in without_sample_sidecars(sorted(where.glob("*.parquet")))]
        if not found:
            sys.exit(f"no datasets in {folder}")
        return found

    own = {label: fit(datasets(folder)) for label, folder in boards.items()}
    pairs = []
    for base_label, base in own.items():
        for label, folder in boards.items():
            if label == base_label:
                continue
            adapted = fit(datasets(folder), base=_saved(base, base_label))
            metrics = adapted.doc["cv"]["metrics"]
            model_cv = adapted.doc["network_models"]["latency_ms"]["cv"]
            pairs.append(
                {
                    "base": base_label,
                    "new": label,
                    "adapted_mape": metrics["latency_ms"]["mape"],
                    "layer_sum_mape": metrics["latency_ms_layer_sum"]["mape"],
                    "simplest": model_cv.get("simplest", "scale"),
                    "correction": model_cv.get("columns", []),
                    "own_fit_mape": own[label].doc["cv"]["metrics"]["latency_ms"]["mape"],
                }
            )
            print(pairs[-1], file=sys.stderr)
    results = {
        **provenance(),
        "boards": boards,
        "pairs": pairs,
    }
    emit_markdown(results, markdown(results), args.out)


def _saved(predictor, label: str) -> str:
    """The base predictor as a file, as `fit --base` takes it."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="fit_base_"))
    path = folder / f"{label.replace(' ', '_').replace(',', '')}.json"
    predictor.save(path)
    return str(path)


def markdown(results: dict) -> str:
    lines = [
        *heading("`fit --base` between default-run boards", results),
        f"Machine: {results['machine']}; leave one family out on the new board's networks",
        "",
        "| base | new board | adapted: MAPE | base's layer sum as it is | simplest taken | correction | new board fitted alone |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for pair in results["pairs"]:
        lines.append(
            f"| {pair['base']} | {pair['new']} | {pair['adapted_mape']:.1%} | {pair['layer_sum_mape']:.1%} | "
            f"{pair['simplest']} | {', '.join(pair['correction']) or 'none'} | {pair['own_fit_mape']:.1%} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
