"""How often `hwprof compare` calls unchanged reruns higher or lower, and how often it sees a 10% slowdown.

    python bench/compare_false_alarms.py --pairs 200 [--out bench/results/compare_false_alarms.json]

Synthetic runs with raw samples (tests/fakes/runs.py: 9 rows per model, lognormal samples around known
medians): pairs of runs with no shift, and pairs with every median 10% higher, each pair on new seeds.
Counts the verdicts of the rows, of the per-model and per-op geometric means, and how often
`--fail-above 5%` would fail the job. Two more scenarios are reruns whose every row's median moved by an
offset of its own in each run (lognormal, sd 5%, as reruns in fresh processes move), with BASE merged from
3 runs against NEW of 1, and 2 against 2. The energy scenarios gate on energy_mj instead: 10 networks a run,
each row's power moved by a run offset of its own (sd 5%), 3 runs against 3 and 2 against 2, unchanged and
with every row's power 10% higher in NEW. The many-model scenarios gate 20 models a run (42 items: 20 networks,
20 model means, 2 op means), unchanged and with one model 10% slower, at samples +-10% (20 a row) and +-25% (10):
`--fail-above 5%` tests every item, so without a correction for testing them all it fails unchanged pairs far
more often than 5%. At a 5% level, about 5% of unchanged pairs should be called changed.
Run it with PYTHONPATH at another checkout to score that code on the same pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakes.runs import LAYERS, synthetic_row, write_run  # noqa: E402

RUN_OFFSET = 0.05  # sd, in log, of how far a row's median moves from one run to the next


ENERGY_NETWORKS = 10  # networks a run in the energy scenarios: the gate fails if any one of them trips it
MANY_MODELS = tuple(f"m{k:02d}" for k in range(20))  # models a run in the many-model gate scenarios
SLOW_MODEL = "m07"  # not m00, whose layers stand for the op means (their configs are shared)
POWER_W = 100.0


def write_offset_run(
    path: Path, seed: int, sigma: float, samples: int, models=("net",), power_factor: float | None = None
) -> Path:
    """A run like write_run's whose every row's median is moved by an offset of its own, lognormal sd RUN_OFFSET;
    with `power_factor`, every row has a power of POWER_W times it, moved by an offset of its own as well."""
    import numpy as np

    from hwprof.dataset import DatasetWriter
    from hwprof.samples import RawSamples

    rng = np.random.default_rng(seed)
    with DatasetWriter(path, {"run_id": f"{path.stem}-{seed}"}) as writer:
        for model in models:
            for index in range(-1, LAYERS):
                median_s = 1e-4 * (index + 3) * math.exp(rng.normal(0.0, RUN_OFFSET))
                drawn = tuple(float(x) for x in median_s * np.exp(rng.normal(0.0, sigma, samples)))
                power_w = None
                if power_factor is not None:
                    power_w = POWER_W * power_factor * math.exp(rng.normal(0.0, RUN_OFFSET))
                writer.write([synthetic_row(model, index, drawn, power_w=power_w)], RawSamples.uniform(drawn, 10))
    return path


def merged_side(folder: Path, name: str, runs: int, seed: int, sigma: float, samples: int, **run_options) -> Path:
    """A side of `runs` offset reruns, merged into one dataset as `hwprof merge` would."""
    from hwprof.dataset import merge_datasets

    shards = [
        write_offset_run(folder / f"{name}{k}.parquet", seed * 10 + k, sigma, samples, **run_options)
        for k in range(runs)
    ]
    if runs == 1:
        return shards[0]
    merge_datasets(shards, folder / f"{name}.parquet")
    return folder / f"{name}.parquet"


def verdicts(pairs: int, factor: float, sigma: float, samples: int, runs: tuple[int, int] | None = None) -> dict:
    """Verdict counts over `pairs` pairs; with `runs` (BASE, NEW), unchanged reruns with run offsets."""
    from hwprof.compare import compare

    counts = {"pairs": pairs, "rows_changed": 0, "rows": 0, "model_changed": 0, "op_changed": 0, "gate_failed": 0}
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(pairs):
            if runs:
                base = merged_side(Path(folder), f"b{seed}_", runs[0], 1000 + seed, sigma, samples)
                new = merged_side(Path(folder), f"n{seed}_", runs[1], 2000 + seed, sigma, samples)
            else:
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


def energy_verdicts(pairs: int, runs: tuple[int, int], power_factor: float) -> dict:
    """Energy verdicts and `--metric energy_mj --fail-above 5%` gate failures over `pairs` pairs of sides merged
    from offset reruns of ENERGY_NETWORKS networks, NEW's power `power_factor` times BASE's."""
    from hwprof.compare import compare

    models = tuple(f"net{k}" for k in range(ENERGY_NETWORKS))
    from hwprof.errors import HwprofError

    counts = {
        "pairs": pairs,
        "network_rows": 0,
        "network_rows_higher": 0,
        "model_changed": 0,
        "gate_failed": 0,
        "gate_cannot_decide": 0,
    }
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(pairs):
            sides = [
                merged_side(
                    Path(folder), f"{name}{seed}_", count, offset + seed, 0.02, 40, models=models, power_factor=f
                )
                for name, count, offset, f in (("b", runs[0], 1000, 1.0), ("n", runs[1], 2000, power_factor))
            ]
            try:
                report = compare(*sides, fail_above=0.05, metric="energy_mj")
            except HwprofError:  # the gate cannot decide (exit 2), having tested nothing it could
                counts["gate_cannot_decide"] += 1
                continue
            networks = [row["energy_mj"]["verdict"] for row in report["rows"] if row["kind"] == "network"]
            counts["network_rows"] += len(networks)
            counts["network_rows_higher"] += sum(v == "higher" for v in networks)
            counts["model_changed"] += sum(m["energy_mj"]["verdict"] != "not significant" for m in report["models"])
            counts["gate_failed"] += bool(report["gate"]["regressions"])
            counts["gate_cannot_decide"] += not report["gate"]["regressions"] and bool(report["gate"]["cannot_decide"])
    return counts


def write_models_run(path: Path, seed: int, sigma: float, samples: int, slow: str | None = None) -> Path:
    """A run of MANY_MODELS, each a network row and LAYERS layer rows with lognormal samples around known medians;
    the model `slow` 10% slower."""
    import numpy as np

    from hwprof.dataset import DatasetWriter
    from hwprof.samples import RawSamples

    rng = np.random.default_rng(seed)
    with DatasetWriter(path, {"run_id": f"{path.stem}-{seed}"}) as writer:
        for model in MANY_MODELS:
            factor = 1.10 if model == slow else 1.0
            for index in range(-1, LAYERS):
                median_s = 1e-4 * (index + 3) * factor
                drawn = tuple(float(x) for x in median_s * np.exp(rng.normal(0.0, sigma, samples)))
                writer.write([synthetic_row(model, index, drawn)], RawSamples.uniform(drawn, 10))
    return path


def many_models_gate(pairs: int, sigma: float, samples: int, slow: str | None) -> dict:
    """`--fail-above 5%` over `pairs` pairs of runs of MANY_MODELS: how often it failed, how often it named the
    model `slow` (10% slower in NEW) and how often something else, and how many items it tested a pair."""
    from hwprof.compare import compare

    counts = {"pairs": pairs, "gate_failed": 0, "slow_model_named": 0, "other_named": 0, "items_tested": None}
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(pairs):
            base = write_models_run(Path(folder) / f"b{seed}.parquet", 1000 + seed, sigma, samples)
            new = write_models_run(Path(folder) / f"n{seed}.parquet", 2000 + seed, sigma, samples, slow)
            gate = compare(base, new, fail_above=0.05)["gate"]
            named = [regression["label"] for regression in gate["regressions"]]
            counts["gate_failed"] += bool(named)
            counts["slow_model_named"] += bool(slow) and any(slow in name for name in named)
            counts["other_named"] += any(not slow or slow not in name for name in named)
            counts["items_tested"] = gate["tested"]
    return counts


def many_models_scenarios(pairs: int) -> dict:
    """The gate over 20 models a run, unchanged and with one model 10% slower."""
    return {
        f"20 models, {what}, sigma {sigma}, {samples} samples": many_models_gate(pairs, sigma, samples, slow)
        for sigma, samples in ((0.10, 20), (0.25, 10))
        for what, slow in (("unchanged", None), (f"{SLOW_MODEL} 10% slower", SLOW_MODEL))
    }


def latency_scenarios(pairs: int) -> dict:
    """The latency scenarios: one network a run, with and without run offsets."""
    return {
        "unchanged, sigma 0.02, 40 samples": verdicts(pairs, 1.0, 0.02, 40),
        "unchanged, sigma 0.25, 10 samples": verdicts(pairs, 1.0, 0.25, 10),
        "10% slower, sigma 0.02, 40 samples": verdicts(pairs, 1.10, 0.02, 40),
        "unchanged, run offsets sd 0.05, BASE 3 runs vs NEW 1, sigma 0.02, 40 samples": verdicts(
            pairs, 1.0, 0.02, 40, runs=(3, 1)
        ),
        "unchanged, run offsets sd 0.05, BASE 2 runs vs NEW 2, sigma 0.02, 40 samples": verdicts(
            pairs, 1.0, 0.02, 40, runs=(2, 2)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--out", default=None)
    parser.add_argument("--energy-only", action="store_true", help="only the energy scenarios of 3 runs against 3")
    parser.add_argument("--many-models-only", action="store_true", help="only the gate over 20 models a run")
    args = parser.parse_args()
    import hwprof

    report = {"command": " ".join(["python", *sys.argv]), "hwprof": str(Path(hwprof.__file__).parent)}
    if args.many_models_only:
        report |= many_models_scenarios(args.pairs)
        print(json.dumps(report, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
        return
    if not args.energy_only:
        report |= latency_scenarios(args.pairs)
    for runs in ((3, 3),) if args.energy_only else ((3, 3), (2, 2)):
        for factor, what in ((1.0, "unchanged"), (1.10, "power 10% higher")):
            name = (
                f"energy, {what}, {ENERGY_NETWORKS} networks, run offsets sd 0.05, BASE {runs[0]} vs NEW {runs[1]} runs"
            )
            report[name] = energy_verdicts(args.pairs, runs, factor)
    if not args.energy_only:
        report |= many_models_scenarios(args.pairs)
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
