"""Measure the datasets the fit benchmarks learn from, on this machine.

    python bench/fit_measure_data.py            # both datasets (tens of minutes on 2 cores)
    python bench/fit_measure_data.py --only nb201

- bench/data/zoo.parquet: every sample model at batch sizes 1 and 4, layer and
  network rows, precision 3%, at most 3 s per item.
- bench/data/nb201.parquet: 100 random NAS-Bench-201 cells (seed 201), whole
  networks only, batch size 1, precision 2%.
- bench/data/zoo_repeat.parquet: the zoo measured again, 5 s per item (3 s left
  the largest networks with 3 samples, and the first run shared the CPU with
  other work for a while). `hwprof fit` given both zoo files combines the
  repeats of each layer configuration and network, the more precise counting more.
- bench/data/nb201_repeat.parquet, nb201_run3.parquet, nb201_run4.parquet: the
  same 100 cells again (other orders). Runs 1 and 3 shared the CPU with other
  work (median 1.56x and 2.4x slower than the repeat: two torch threads on two
  cores stall whenever anything else runs), so the fit benchmarks learn from
  the repeat and compare it with run 4 for the run-to-run noise ceiling.
- bench/data/zoo_t1.parquet: the zoo measured on one thread on an idle machine.
  Two torch threads on two cores stall whenever anything else runs, which left
  the first two zoo runs up to 55% apart on the same network; one thread leaves
  the other core to everything else.
- bench/data/zoo_t1_networks_1.parquet: the zoo's whole networks measured once
  more like zoo_t1 (6 s per network, another order), for the run-to-run spread
  under glibc's default allocator: up to 1.6x on the same network.
- bench/data/sweep.parquet: layer sweeps (sample_models/sweep.py), 40 sampled
  configurations of each swept op at batch sizes 1 and 4, on one thread: layer
  rows only, for the layer models to interpolate where the zoo has no layers.
  Its linear rows were drawn before the linear sweep reached matrix-vector
  products over 48 MB; they stay valid rows (each carries its configuration).
- bench/data/zoo_steady.parquet: the zoo on one thread with the allocator
  pinned (`--allocator steady`, the default since): each network timed in the
  same allocator state whatever ran before it.
- bench/data/zoo_steady_networks_{1,2,3}.parquet: its whole networks in three
  more runs (other orders, 6 s per network). A run on this virtual machine can
  be slow throughout, which no interval within the run shows; given three runs
  or more of a network, `hwprof fit` takes their median.
- bench/data/nb201_t1/run{1,2,3,4}.parquet: the 100 cells on one thread with the
  allocator pinned (measure's default), four runs in other orders on a quiet
  machine: the few-shot benchmark learns from the median of runs 1-3 and takes
  run 4 for the ceiling.
- bench/data/sweep_linear.parquet: 80 linear configurations (allocator pinned)
  from the sampler whose matrix-vector products reach a CNN classifier's
  hundreds of MB (layers that run at a few GMAC/s, weights streamed from memory).
The runs before zoo_steady left glibc's allocator as it was (`--allocator system`).
- bench/data/sweep_steady.parquet: the other eight sweeps again (40 configurations
  each, batch 1 and 4, one thread) with the allocator pinned, so that the fit
  benchmarks learn from one allocator policy throughout.
- bench/data/together.parquet: the zoo and all nine sweeps (linear at 80
  configurations) in one `hwprof measure` process, their groups interleaved in
  random order, and together_networks_{1,2}.parquet: the zoo's networks twice
  more right after. On this virtual machine the speed of one op class moves by
  15-35% between runs an hour apart (sweep_steady against sweep: conv2d 1.14x,
  relu 0.71x), so layer models learnt from a zoo run and a sweep run taken at
  different times are biased against each other; measured together, they share
  whatever state the machine is in.
- bench/data/together_{2,3}.parquet: the same interleaved run twice more (same
  configurations, other random orders), so that every layer configuration and
  network has three runs, which the fitter aligns to one machine speed
  (hwprof/fitting/alignment.py) and combines by their median.
- bench/data/sweep_maxpool.parquet: `sweep:maxpool2d:80` once (batch 1 and 4, one thread) after the
  maxpool sweep learnt to vary its window (2x2 and 3x3, strides 1-2, padding, ceil mode); the sweep
  in the together runs drew 3x3 stride-2 pools only, so nothing in them showed VGG's 2x2 pools.
- bench/data/sweep_conv.parquet: `sweep:conv2d` once (batch 1 and 4, one thread) after the conv sweep
  learnt to draw networks' first layers (3 input channels at image resolution), which it never did.
- bench/data/sweep_conv_bridged.parquet: the same conv sweep in one run with five of the zoo's
  smaller networks (mlp, mobilenet_v2_050, resnet18, squeezenet1_1, vit_tiny; 10 network rows and
  their layers), which the together runs measured too, so that `fit` can align the run to them.
Each run holds /tmp/hwprof-bench.lock so timing runs do not overlap, and
resumes where an interrupted run stopped.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

from hwprof.sample_models import MODELS
from hwprof.sample_models.nb201 import random_arch
from hwprof.sample_models.sweep import SAMPLERS

DATA = Path(__file__).resolve().parent / "data"
LOCK = "/tmp/hwprof-bench.lock"
NB201_COUNT = 100
NB201_SEED = 201


def nb201_archs(count: int = NB201_COUNT, seed: int = NB201_SEED) -> list[str]:
    rng = random.Random(seed)
    archs: list[str] = []
    while len(archs) < count:
        arch = random_arch(rng)
        if arch not in archs:
            archs.append(arch)
    return archs


def measure(
    models: list[str],
    out: Path,
    *options: str,
    default_sweep: bool = False,
    env: dict | None = None,
    cwd: Path | None = None,
) -> None:
    """One `hwprof measure` under the bench lock, resumed where `out` exists. These datasets name their
    sweeps (measured before measure added one by default), so the default sweep is left out unless asked.
    `env` replaces the environment (another checkout's hwprof on PYTHONPATH) and `cwd` the folder it runs in
    (that checkout: `python -c` puts the working folder first on the path)."""
    command = [
        "flock",
        LOCK,
        sys.executable,
        "-c",
        "from hwprof.cli import main; main()",
        "measure",
        *models,
        "--out",
        str(out),
        "--quiet",
        *([] if default_sweep else ["--sweep-share", "0"]),
        *options,
    ]
    if out.exists():
        command.append("--resume")
    print("flock", LOCK, "hwprof measure", f"... ({len(models)} models) --out {out} {' '.join(options)}", flush=True)
    subprocess.run(command, check=True, env=env, cwd=cwd)


def measure_nb201(out: Path, *options: str) -> None:
    """The 100 cells' whole networks at batch 1, to 2% precision, at most 4 s each."""
    measure(
        [f"nb201:{arch}" for arch in nb201_archs()],
        out,
        "--no-layers",
        "--batch-size",
        "1",
        "--precision",
        "0.02",
        "--max-time",
        "4",
        *options,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=(
            "zoo",
            "nb201",
            "zoo_repeat",
            "nb201_repeat",
            "nb201_run3",
            "nb201_run4",
            "zoo_t1",
            "zoo_t1_networks",
            "sweep",
            "zoo_steady",
            "sweep_linear",
            "zoo_steady_networks",
            "sweep_steady",
            "together",
            "together_runs",
            "sweep_maxpool",
            "sweep_conv",
            "sweep_conv_bridged",
            "nb201_t1",
        ),
    )
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    if args.only in (None, "zoo"):
        measure(
            sorted(MODELS),
            DATA / "zoo.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--allocator",
            "system",
        )
    if args.only in (None, "nb201"):
        measure_nb201(DATA / "nb201.parquet", "--allocator", "system")
    if args.only in (None, "zoo_repeat"):
        measure(
            sorted(MODELS),
            DATA / "zoo_repeat.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "5",
            "--seed",
            "1",
            "--allocator",
            "system",
        )
    if args.only in (None, "nb201_repeat"):
        measure_nb201(DATA / "nb201_repeat.parquet", "--seed", "2", "--allocator", "system")
    if args.only in (None, "nb201_run3"):
        measure_nb201(DATA / "nb201_run3.parquet", "--seed", "3", "--allocator", "system")
    if args.only in (None, "nb201_run4"):
        measure_nb201(DATA / "nb201_run4.parquet", "--seed", "4", "--allocator", "system")
    if args.only in (None, "zoo_t1"):
        measure(
            sorted(MODELS),
            DATA / "zoo_t1.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "5",
            "--allocator",
            "system",
        )
    if args.only in (None, "zoo_t1_networks"):
        measure(
            sorted(MODELS),
            DATA / "zoo_t1_networks_1.parquet",
            "--no-layers",
            "--batch-size",
            "1,4",
            "--precision",
            "0.02",
            "--max-time",
            "6",
            "--threads",
            "1",
            "--seed",
            "7",
            "--allocator",
            "system",
        )
    if args.only in (None, "sweep"):
        measure(
            [f"sweep:{op}" for op in SAMPLERS],
            DATA / "sweep.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "2",
            "--threads",
            "1",
            "--seed",
            "6",
            "--allocator",
            "system",
        )
    if args.only in (None, "zoo_steady"):
        measure(
            sorted(MODELS),
            DATA / "zoo_steady.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "11",
        )
    if args.only in (None, "sweep_linear"):
        measure(
            ["sweep:linear:80"],
            DATA / "sweep_linear.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "10",
        )
    if args.only in (None, "zoo_steady_networks"):
        for run, seed in enumerate((12, 13, 14), start=1):
            measure(
                sorted(MODELS),
                DATA / f"zoo_steady_networks_{run}.parquet",
                "--no-layers",
                "--batch-size",
                "1,4",
                "--precision",
                "0.02",
                "--max-time",
                "6",
                "--threads",
                "1",
                "--seed",
                str(seed),
            )
    if args.only in (None, "sweep_steady"):
        measure(
            [f"sweep:{op}" for op in SAMPLERS if op != "linear"],
            DATA / "sweep_steady.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "2",
            "--threads",
            "1",
            "--seed",
            "16",
        )

    sweeps = [f"sweep:{op}:80" if op == "linear" else f"sweep:{op}" for op in SAMPLERS]
    if args.only in (None, "together"):
        measure(
            sorted(MODELS) + sweeps,
            DATA / "together.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "17",
        )
        for run, seed in enumerate((18, 19), start=1):
            measure(
                sorted(MODELS),
                DATA / f"together_networks_{run}.parquet",
                "--no-layers",
                "--batch-size",
                "1,4",
                "--precision",
                "0.02",
                "--max-time",
                "6",
                "--threads",
                "1",
                "--seed",
                str(seed),
            )
    if args.only in (None, "together_runs"):
        for run, seed in ((2, 20), (3, 21)):
            measure(
                sorted(MODELS) + sweeps,
                DATA / f"together_{run}.parquet",
                "--batch-size",
                "1,4",
                "--precision",
                "0.03",
                "--max-time",
                "3",
                "--threads",
                "1",
                "--seed",
                str(seed),
            )
    if args.only in (None, "sweep_maxpool"):
        measure(
            ["sweep:maxpool2d:80"],
            DATA / "sweep_maxpool.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "22",
        )
    if args.only in (None, "sweep_conv"):
        measure(
            ["sweep:conv2d"],
            DATA / "sweep_conv.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "23",
        )
    if args.only in (None, "sweep_conv_bridged"):
        bridge = ["mlp", "mobilenet_v2_050", "resnet18", "squeezenet1_1", "vit_tiny"]
        measure(
            bridge + ["sweep:conv2d"],
            DATA / "sweep_conv_bridged.parquet",
            "--batch-size",
            "1,4",
            "--precision",
            "0.03",
            "--max-time",
            "3",
            "--threads",
            "1",
            "--seed",
            "24",
        )
    if args.only in (None, "nb201_t1"):
        (DATA / "nb201_t1").mkdir(exist_ok=True)
        for run, seed in enumerate((31, 32, 33, 34), start=1):
            measure_nb201(DATA / "nb201_t1" / f"run{run}.parquet", "--threads", "1", "--seed", str(seed))


if __name__ == "__main__":
    main()
