"""How much the leave-one-family-out network MAPE depends on which measurement runs the fit learns from.

    python bench/fit_sensitivity.py

The same fit (`auto`, family folds, as bench/fit_accuracy.py) on several combinations of the zoo and
sweep runs in bench/data (see fit_measure_data.py). Every combination measures the same networks and
the same kinds of layers on the same machine; they differ only in which runs, taken at which times,
with which allocator policy. The spread of the results is the part of any single figure that comes
from the machine, not from the predictor. Each combination is fitted twice, side by side: with the
runs aligned to one machine speed before they are combined (what `hwprof fit` does) and without.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import DATA, STEADY_ZOO_RUNS, TOGETHER_RUNS  # noqa: E402
from results_io import emit_markdown  # noqa: E402

COMBINATIONS = {
    "together x3: zoo and sweeps in one process, three runs (default of fit_accuracy)": TOGETHER_RUNS,
    "together (03:32) alone": ["together.parquet"],
    "together_2 (04:32) alone": ["together_2.parquet"],
    "together_3 (04:39) alone": ["together_3.parquet"],
    "together + 2 network runs (03:50, 03:53)": [
        "together.parquet",
        "together_networks_1.parquet",
        "together_networks_2.parquet",
    ],
    "together x3 + sweep_maxpool (pools with 2x2 and 3x3 windows, 05:16)": [*TOGETHER_RUNS, "sweep_maxpool.parquet"],
    "together x3 + sweep_maxpool + sweep_conv (stems, 05:38, shares nothing with the together runs)": [
        *TOGETHER_RUNS,
        "sweep_maxpool.parquet",
        "sweep_conv.parquet",
    ],
    "together x3 + sweep_maxpool + sweep_conv_bridged (the conv sweep beside 5 zoo networks, 05:43)": [
        *TOGETHER_RUNS,
        "sweep_maxpool.parquet",
        "sweep_conv_bridged.parquet",
    ],
    "together x3 + 2 network runs": [*TOGETHER_RUNS, "together_networks_1.parquet", "together_networks_2.parquet"],
    "zoo_steady + 3 network runs, sweep (01:15) + sweep_linear (02:29)": [
        *STEADY_ZOO_RUNS,
        "sweep.parquet",
        "sweep_linear.parquet",
    ],
    "zoo_steady + 3 network runs, sweep_steady (03:18) + sweep_linear": [
        *STEADY_ZOO_RUNS,
        "sweep_steady.parquet",
        "sweep_linear.parquet",
    ],
    "zoo_steady + 3 network runs, both sweep runs + sweep_linear": [
        *STEADY_ZOO_RUNS,
        "sweep.parquet",
        "sweep_steady.parquet",
        "sweep_linear.parquet",
    ],
    "zoo_steady alone (1 network run), sweep + sweep_linear": [
        "zoo_steady.parquet",
        "sweep.parquet",
        "sweep_linear.parquet",
    ],
    "zoo_t1 + 1 network run, glibc allocator as it was, sweep + sweep_linear": [
        "zoo_t1.parquet",
        "zoo_t1_networks_1.parquet",
        "sweep.parquet",
        "sweep_linear.parquet",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(HERE / "results" / "fit_sensitivity.json"), help="results JSON (and .md beside it)"
    )
    args = parser.parse_args()
    from hwprof.fitting.data import read_inputs, select_device, training_data
    from hwprof.fitting.pipeline import fit_training_data

    results = {"command": " ".join(["python", *sys.argv]), "combinations": {}}
    lines = [
        "| data | MAPE | RMSPE | within ±10% | 90% coverage | MAPE, runs not aligned | aligned / not |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, names in COMBINATIONS.items():
        paths = [DATA / name for name in names]
        if not all(path.exists() for path in paths):
            print(f"skipped (not measured): {label}", file=sys.stderr)
            continue
        frame, sources = read_inputs([str(path) for path in paths])
        frame, device = select_device(frame, None)
        data = training_data(frame, device, sources)
        metrics = fit_training_data(data, ["latency_ms"], family="auto", cv=True).doc["cv"]["metrics"]["latency_ms"]
        results["combinations"][label] = {"datasets": names, **metrics, "run_alignment": data.alignment.to_json()}
        if data.alignment.runs:
            plain = training_data(frame, device, sources, align=False)
            unaligned = fit_training_data(plain, ["latency_ms"], family="auto", cv=True).doc["cv"]["metrics"][
                "latency_ms"
            ]
            results["combinations"][label]["not_aligned"] = unaligned
            side = f"{unaligned['mape']:.1%} | {metrics['mape'] / unaligned['mape']:.2f}"
        else:
            side = "one run | -"
        lines.append(
            f"| {label} | {metrics['mape']:.1%} | {metrics['rmspe']:.1%} | {metrics['within_10pct']:.1%} | "
            f"{metrics['coverage_90']:.1%} | {side} |"
        )
        print(lines[-1], flush=True)
    emit_markdown(results, "\n".join(lines) + "\n", Path(args.out))


if __name__ == "__main__":
    main()
