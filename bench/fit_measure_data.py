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


def options(
    precision: str,
    max_time: str,
    *,
    batch: str = "1,4",
    threads: str | None = "1",
    seed: int | None = None,
    system_allocator: bool = False,
    layers: bool = True,
) -> list[str]:
    """The `hwprof measure` flags of one run of the recipe below."""
    flags = [] if layers else ["--no-layers"]
    flags += ["--batch-size", batch, "--precision", precision, "--max-time", max_time]
    flags += ["--threads", threads] if threads else []
    flags += ["--seed", str(seed)] if seed is not None else []
    return flags + (["--allocator", "system"] if system_allocator else [])


def nb201_options(seed: int | None = None, **how) -> list[str]:
    """The 100 cells' whole networks at batch 1, to 2% precision, at most 4 s each."""
    return options("0.02", "4", batch="1", seed=seed, layers=False, **how)


def recipe() -> dict[str, list[tuple[list[str], Path, list[str]]]]:
    """Each dataset of the module docstring: its runs, as (models, out, flags), in the order measured."""
    zoo = sorted(MODELS)
    cells = [f"nb201:{arch}" for arch in nb201_archs()]
    sweeps = [f"sweep:{op}:80" if op == "linear" else f"sweep:{op}" for op in SAMPLERS]
    old = {"system_allocator": True}  # the runs before zoo_steady kept glibc's allocator as it was
    bridge = ["mlp", "mobilenet_v2_050", "resnet18", "squeezenet1_1", "vit_tiny"]
    return {
        "zoo": [(zoo, DATA / "zoo.parquet", options("0.03", "3", threads=None, **old))],
        "nb201": [(cells, DATA / "nb201.parquet", nb201_options(threads=None, **old))],
        "zoo_repeat": [(zoo, DATA / "zoo_repeat.parquet", options("0.03", "5", threads=None, seed=1, **old))],
        **{
            name: [(cells, DATA / f"{name}.parquet", nb201_options(seed=seed, threads=None, **old))]
            for name, seed in (("nb201_repeat", 2), ("nb201_run3", 3), ("nb201_run4", 4))
        },
        "zoo_t1": [(zoo, DATA / "zoo_t1.parquet", options("0.03", "3", seed=5, **old))],
        "zoo_t1_networks": [
            (zoo, DATA / "zoo_t1_networks_1.parquet", options("0.02", "6", seed=7, layers=False, **old))
        ],
        "sweep": [([f"sweep:{op}" for op in SAMPLERS], DATA / "sweep.parquet", options("0.03", "2", seed=6, **old))],
        "zoo_steady": [(zoo, DATA / "zoo_steady.parquet", options("0.03", "3", seed=11))],
        "sweep_linear": [(["sweep:linear:80"], DATA / "sweep_linear.parquet", options("0.03", "3", seed=10))],
        "zoo_steady_networks": [
            (zoo, DATA / f"zoo_steady_networks_{run}.parquet", options("0.02", "6", seed=seed, layers=False))
            for run, seed in enumerate((12, 13, 14), start=1)
        ],
        "sweep_steady": [
            (
                [f"sweep:{op}" for op in SAMPLERS if op != "linear"],
                DATA / "sweep_steady.parquet",
                options("0.03", "2", seed=16),
            )
        ],
        "together": [
            (zoo + sweeps, DATA / "together.parquet", options("0.03", "3", seed=17)),
            *(
                (zoo, DATA / f"together_networks_{run}.parquet", options("0.02", "6", seed=seed, layers=False))
                for run, seed in enumerate((18, 19), start=1)
            ),
        ],
        "together_runs": [
            (zoo + sweeps, DATA / f"together_{run}.parquet", options("0.03", "3", seed=seed))
            for run, seed in ((2, 20), (3, 21))
        ],
        "sweep_maxpool": [(["sweep:maxpool2d:80"], DATA / "sweep_maxpool.parquet", options("0.03", "3", seed=22))],
        "sweep_conv": [(["sweep:conv2d"], DATA / "sweep_conv.parquet", options("0.03", "3", seed=23))],
        "sweep_conv_bridged": [
            (bridge + ["sweep:conv2d"], DATA / "sweep_conv_bridged.parquet", options("0.03", "3", seed=24))
        ],
        "nb201_t1": [
            (cells, DATA / "nb201_t1" / f"run{run}.parquet", nb201_options(seed=seed))
            for run, seed in enumerate((31, 32, 33, 34), start=1)
        ],
    }


def main() -> None:
    runs = recipe()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=tuple(runs))
    args = parser.parse_args()
    for name, measurements in runs.items():
        if args.only not in (None, name):
            continue
        for models, out, flags in measurements:
            out.parent.mkdir(exist_ok=True)
            measure(models, out, *flags)


if __name__ == "__main__":
    main()
