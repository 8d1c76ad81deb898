"""How often `hwprof compare` calls unchanged reruns higher or lower, and how often it sees a 10% slowdown.

    python bench/compare_false_alarms.py --pairs 200 [--out bench/results/compare_false_alarms.json]

Synthetic runs with raw samples (tests/fakes/runs.py: 9 rows per model, lognormal samples around known
medians): pairs of runs with no shift, and pairs with every median 10% higher, each pair on new seeds.
Counts the verdicts of the rows, of the per-model and per-op geometric means, and how often
`--fail-above 5%` would fail the job. At a 5% level, about 5% of unchanged pairs should be called changed.
Run it with PYTHONPATH at another checkout to score that code on the same pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakes.runs import write_run  # noqa: E402


def verdicts(pairs: int, factor: float, sigma: float, samples: int) -> dict:
    from hwprof.compare import compare

    counts = {"pairs": pairs, "rows_changed": 0, "rows": 0, "model_changed": 0, "op_changed": 0, "gate_failed": 0}
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(pairs):
            base = write_run(Path(folder) / f"b{seed}.parquet", seed=1000 + seed, sigma=sigma, samples=samples)
            new = write_run(
                Path(folder) / f"n{seed}.parquet", factor=factor, seed=2000 + seed, sigma=sigma, samples=samples
            )
            report = compare(base, new, fail_above=0.05)
            rows = [row["latency_ms"]["verdict"] for row in report["rows"]]
            counts["rows"] += len(rows)
            counts["rows_changed"] += sum(v != "not significant" for v in rows)
            counts["model_changed"] += report["models"][0]["latency_ms"]["verdict"] != "not significant"
            (linear,) = [op for op in report["ops"] if op["op"] == "linear"]
            counts["op_changed"] += linear["latency_ms"]["verdict"] != "not significant"
            counts["gate_failed"] += bool(report["gate"]["regressions"])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import hwprof

    report = {
        "command": " ".join(["python", *sys.argv]),
        "hwprof": str(Path(hwprof.__file__).parent),
        "unchanged, sigma 0.02, 40 samples": verdicts(args.pairs, 1.0, 0.02, 40),
        "unchanged, sigma 0.25, 10 samples": verdicts(args.pairs, 1.0, 0.25, 10),
        "10% slower, sigma 0.02, 40 samples": verdicts(args.pairs, 1.10, 0.02, 40),
    }
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
