"""What `hwprof compare` says about two reruns of the same model, and about a deliberate 10% slowdown.

    python bench/compare_verdicts.py --workdir /tmp/compare_bench --out bench/results/compare_verdicts.json

Measures resnet18 (layers and network, one thread, no power) three times in separate processes, one
after the other: runs A, B and D. C is B with every latency and every raw sample multiplied by 1.10, a
slowdown with a known answer on real measurement noise, and E is D slowed alike. Compares B against A (a
rerun), C against A (the slowdown on top of a rerun), C against B (the slowdown alone, no rerun between),
D against A and against B, and D and E against the baseline AB, A and B merged (a rerun, and a rerun
slowed, against a baseline of two runs), as `hwprof compare A B --fail-above 5%` does. Reports the verdicts per row, the network row,
the geometric mean per model, the gate, and how many rows were measured while others took more than 5%
of the CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_io import emit  # noqa: E402

from hwprof.compare import compare  # noqa: E402
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table  # noqa: E402
from hwprof.drivers.host import describe_cpu  # noqa: E402
from hwprof.samples import read_samples, write_samples  # noqa: E402
from hwprof.schema import CONTENDED_SHARE  # noqa: E402

SLOWDOWN = 1.10
FAIL_ABOVE = 0.05
LATENCY_COLUMNS = ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std")


def measure(out: Path, seed: int) -> float | None:
    """Seconds one `hwprof measure resnet18` took, kept beside it; an existing output is kept (None: its time
    was not kept)."""
    seconds = Path(f"{out}.measure_s")
    if out.exists():
        return float(seconds.read_text()) if seconds.exists() else None
    command = [sys.executable, "-m", "hwprof", "measure", "resnet18", "--threads", "1", "--power", "none"]
    command += ["--sweep-share", "0"]  # the model's rows only: a time-bounded sweep would differ between runs
    start = time.monotonic()
    subprocess.run([*command, "--seed", str(seed), "--out", str(out), "--quiet"], check=True)
    seconds.write_text(f"{time.monotonic() - start:.1f}\n")
    return float(seconds.read_text())


def slowed(source: Path, out: Path) -> None:
    frame, samples = read_dataset(source), read_samples(source)
    for column in LATENCY_COLUMNS:
        frame[column] = frame[column] * SLOWDOWN
    samples["seconds_per_call"] = samples["seconds_per_call"] * SLOWDOWN
    write_table(out, frame, read_provenance(source))
    write_samples(out, samples)


def contended(path: Path) -> str:
    share = read_dataset(path)["other_cpu_share"].astype(float)
    return f"{int((share > CONTENDED_SHARE).sum())} of {len(share)} (median other_cpu_share {share.median():.2f})"


def summary(base: Path, new: Path) -> dict:
    report = compare(base, new, fail_above=FAIL_ABOVE)
    latency = [row["latency_ms"] for row in report["rows"]]
    network = next(row for row in report["rows"] if row["kind"] == "network")["latency_ms"]
    model = report["models"][0]["latency_ms"]
    keep = ("ratio", "ci_low", "ci_high", "verdict")
    return {
        "command": f"hwprof compare {base.name} {new.name} --fail-above {FAIL_ABOVE:.0%}",
        "rows": len(latency),
        "verdicts": dict(Counter(result["verdict"] for result in latency)),
        "median_abs_change": float(np.median([abs(result["ratio"] - 1) for result in latency])),
        "network": {key: network[key] for key in (*keep, "p_value")},
        "model_geometric_mean": {key: model[key] for key in keep},
        "gate_regressions": len(report["gate"]["regressions"]),
        "gate_exit_status": 1 if report["gate"]["regressions"] else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    a, b, c, d, e, ab = (args.workdir / f"{name}.parquet" for name in ("a", "b", "c_slowed", "d", "e_slowed", "ab"))
    seconds = {"a": measure(a, 1), "b": measure(b, 2), "d": measure(d, 3)}
    for source, target in ((b, c), (d, e)):
        if not target.exists():
            slowed(source, target)
    if not ab.exists():
        merge_datasets([a, b], ab)
    emit(
        {
            "command": " ".join(["python", *sys.argv]),
            "date": time.strftime("%Y-%m-%d"),
            "cpu": describe_cpu(),
            "cpus": os.cpu_count(),
            "measure_s": seconds,
            "contended_rows": {path.stem: contended(path) for path in (a, b, d)},
            "rerun": summary(a, b),
            "rerun_and_slowdown_10_percent": summary(a, c),
            "slowdown_10_percent_alone": summary(b, c),
            "rerun_d_against_a": summary(a, d),
            "rerun_d_against_b": summary(b, d),
            "rerun_against_two_runs": summary(ab, d),
            "rerun_and_slowdown_against_two_runs": summary(ab, e),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
