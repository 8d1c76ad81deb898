"""How often do networks run at two speeds? The end-of-run `slow_sample_share` of every network in datasets.

Each dataset's network rows are summarised as `hwprof show --json` does (share of a network's raw samples
at 1.4x its fastest tenth or more); the report lists them per folder with the largest share and how many
networks reach the note's 5%. Datasets need their samples sidecar (network rows' samples suffice).

    python bench/slow_share.py bench/data/span_visits_t1/default15/*/ bench/data/span_visits_t2/default15/*/ \
        bench/data/span_visits_t2/reruns/*/run*/ --out bench/results/slow_share.json
"""

import argparse
import sys
from pathlib import Path

from results_io import emit_markdown

from hwprof.cli.measure import TWO_SPEED_NOTE_SHARE, summarize_frame
from hwprof.dataset import read_dataset
from hwprof.samples import read_samples


def folder_shares(folder: Path) -> dict[str, float]:
    shares = {}
    for path in sorted(folder.glob("*.parquet")):
        if path.name.endswith(".samples.parquet"):
            continue
        for entry in summarize_frame(read_dataset([str(path)]), read_samples(path))["networks"]:
            if entry.get("slow_sample_share") is not None:
                shares[path.stem] = entry["slow_sample_share"]
    return shares


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    missing = [str(folder) for folder in args.folders if not folder.is_dir()]
    if missing:
        sys.exit(f"no such folder: {', '.join(missing)}")
    folders = {str(folder).rstrip("/"): folder_shares(folder) for folder in args.folders}
    if not any(folders.values()):
        sys.exit(
            "no dataset in these folders has the network rows' raw samples (*.samples.parquet), which this needs; "
            "the repository keeps the sidecars of few bench/data folders (see .gitignore): measure anew"
        )
    rows = []
    for name, shares in folders.items():
        values = list(shares.values())
        if not values:
            rows.append(f"| {name} | 0 | - | - | no samples sidecar |")
            continue
        noted = sum(value >= TWO_SPEED_NOTE_SHARE for value in values)
        rows.append(
            f"| {name} | {len(values)} | {max(values):.0%} | {noted} | "
            + ", ".join(f"{stem} {share:.0%}" for stem, share in shares.items() if share >= TWO_SPEED_NOTE_SHARE)
            + " |"
        )
    table = "\n".join(
        [
            f"| datasets | networks | largest slow_sample_share | at ≥ {TWO_SPEED_NOTE_SHARE:.0%} (noted) | noted networks |",
            "|---|---:|---:|---:|---|",
            *rows,
        ]
    )
    emit_markdown({"command": " ".join(["python", *sys.argv]), "folders": folders}, table, args.out)


if __name__ == "__main__":
    main()
