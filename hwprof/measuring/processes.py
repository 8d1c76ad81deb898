"""`measure(processes=N)`: the measurement repeated in N fresh processes and combined (pyperf's approach).

A process brings its own memory layout, code placement and scheduler luck, so
its medians shift by a few percent against another's, and no interval taken
within one process can show it (BENCHMARKS.md: 5-14% on our test VM). Here N
worker processes (`hwprof measure ... --processes 1`, one after the other,
each in its own random order) each write a dataset of their own into
`<out>.processes/`, as they measure; once all are done, every row is combined
across them (hwprof.measuring.stats.combine_processes) into `out`, and the
workers' datasets are removed. An interrupted or failed run keeps the workers'
datasets, and `resume` carries on in them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from hwprof.errors import HwprofError, option
from hwprof.files import JOURNAL_SUFFIX
from hwprof.measuring.stats import combine_processes, percentile_of_groups
from hwprof.progress import Progress

if TYPE_CHECKING:
    from hwprof.samples import RawSamples

# MeasureOptions field -> how a worker is told (None: the parent handles it, the worker never sees it)
WORKER_FLAGS = {
    "batch_sizes": "--batch-size",
    "device": "--device",
    "precision": "--precision",
    "max_item_s": "--max-time",
    "threads": "--threads",
    "power": "--power",
    "tegrastats": "--tegrastats",
    "layers": "--no-layers",
    "input_shape": "--input-shape",
    "seed": "--seed",
    "allocator": "--allocator",
    "max_other_share": "--max-other-share",
    "inputs": "--input",
    "seq_lens": "--seq-len",
    "dtype": "--dtype",
    "channels_last": "--channels-last",
    "compile": "--compile",
    "hf_config": "--hf-config",
    "cache": "--cache",
    "sweep_share": "--sweep-share",
    "trace": None,  # refused with processes > 1
    "processes": None,
}
DEFAULT_PROCESSES = 1  # measure in the calling process, as before --processes existed
STOP_GRACE_S = 30.0  # a worker stopped with SIGTERM writes its rows and exits; after this it is killed


def work_folder(out: str | Path) -> Path:
    """Where the workers of a run writing `out` keep their datasets until they are combined."""
    from hwprof.files import WORKERS_SUFFIX

    return Path(f"{out}{WORKERS_SUFFIX}")


def started_workers(folder: Path) -> int:
    """How far an interrupted run's workers got: the highest worker number that left a dataset or journal in
    `folder` (they run one after the other), 0 where none did."""
    found = (re.fullmatch(r"process(\d+)\.parquet.*", path.name) for path in folder.glob("process*"))
    return max((int(match.group(1)) for match in found if match), default=0)


def worker_arguments(options, seed_offset: int) -> list[str]:
    """The command-line flags that make a worker measure as `options` says."""
    arguments: list[str] = []
    for field in dataclasses.fields(options):
        flag = WORKER_FLAGS[field.name]
        value = getattr(options, field.name)
        if flag is None or value is None:
            continue
        if field.name == "layers":
            arguments += [] if value else [flag]
        elif field.name in ("channels_last", "compile"):
            arguments += [flag] if value else []
        elif field.name == "inputs":  # NAME:DTYPE[SHAPE] strings (example tensors cannot be told a process)
            arguments += [part for text in ([value] if isinstance(value, str) else value) for part in (flag, text)]
        elif field.name == "seq_lens":
            arguments += [flag, ",".join(str(v) for v in value)] if value else []
        elif field.name == "hf_config":
            text = ",".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in value.items())
            arguments += [flag, text] if value else []
        elif field.name in ("batch_sizes", "input_shape"):
            arguments += [flag, ",".join(str(v) for v in value)]
        elif field.name == "sweep_share":  # timed per process, the rounds would differ between workers
            arguments += [flag, "0"]
        elif field.name == "seed":
            arguments += [flag, str(value + seed_offset)]  # each worker its own order, reproducibly
        else:
            arguments += [flag, repr(value) if isinstance(value, float) else str(value)]
    return arguments


def run_workers(names: list[str], options, folder: Path, progress: Progress) -> list[Path]:
    """Run the N workers one after the other, each into its own dataset in `folder`; their paths."""
    folder.mkdir(exist_ok=True)
    shards = []
    for k in range(1, options.processes + 1):
        shard = folder / f"process{k}.parquet"
        shards.append(shard)
        resume = ["--resume"] if shard.exists() or Path(f"{shard}{JOURNAL_SUFFIX}").exists() else []
        command = [sys.executable, "-m", "hwprof", "measure", *names, "--out", str(shard), "--quiet"]
        command += worker_arguments(options, seed_offset=k - 1) + resume
        progress.note(f"process {k} of {options.processes}: measuring in a fresh process")
        started = time.perf_counter()
        try:
            status, last_line = _run(command)
        except BaseException:
            if not any(folder.iterdir()):  # stopped or failed before a worker wrote anything: nothing to resume
                folder.rmdir()
            raise
        if status != 0:
            how = f"said: {last_line.removeprefix('Error: ')}" if last_line else f"exited with status {status}"
            if status < 0:
                how = f"was killed by {signal.Signals(-status).name}"
            if not any(folder.iterdir()):  # nothing measured yet: no folder to resume from
                folder.rmdir()
                raise HwprofError(f"measuring process {k} of {options.processes} {how}")
            raise HwprofError(
                f"measuring process {k} of {options.processes} {how}; the rows measured so far are kept in "
                f"{folder}: run the same measurement with {option('resume', True)} to carry on"
            )
        progress.note(f"process {k} of {options.processes}: done in {time.perf_counter() - started:.1f} s")
    return shards


PR_SET_PDEATHSIG = 1  # Linux prctl option: the signal a process gets when its parent dies


def stopped_with_parent(parent: int):
    """What a child process runs before it starts, on Linux: a SIGTERM when `parent` dies, even by SIGKILL,
    which no handler there can pass on. A measuring worker then stops as on Ctrl-C, keeping its rows; `hwprof
    run`'s command stops too. An orphan would go on for minutes and take the CPU from whatever runs next.
    None elsewhere. libc is opened here, before the fork: the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no prctl to call: the child runs as before
        return None

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def _run(command: list[str]) -> tuple[int, str]:
    """Run a worker to its end; (exit status, last line it wrote to stderr). Stops it if this process is stopped.
    Its stderr is kept in a file in the work folder its dataset goes to, which the run writes anyway: a container
    may leave the system temp dir read-only."""
    folder = Path(command[command.index("--out") + 1]).parent
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder) as errors:
        worker = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=errors, text=True, preexec_fn=stopped_with_parent(os.getpid())
        )
        try:
            status = worker.wait()
        except BaseException:  # Ctrl-C or SIGTERM here: the worker keeps its rows if it is asked to stop
            worker.terminate()
            try:
                worker.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            raise
        errors.seek(0)
        lines = [line.strip() for line in errors.read().splitlines() if line.strip()]
    return status, lines[-1] if lines else ""


class Combined(NamedTuple):
    rows: list[dict]  # each row's measurements across the workers, combined
    runs: list[dict]  # the workers' provenance, a run each (a resumed worker has several)
    samples: dict[tuple, RawSamples]  # each row's samples pooled across the workers, keyed by combined_key
    speeds: list[float] | None  # each worker's speed against the others (worker_speeds)


def combine_shards(shards: list[Path], precision: float) -> Combined:
    """The workers' datasets combined into one run's rows (see Combined)."""
    import pandas as pd

    from hwprof.dataset import read_dataset

    read = [read_dataset([shard]) for shard in shards]
    for frame, spread in zip(read, row_speeds(read) or []):
        if frame.attrs["provenance"]:  # a resumed worker's last run: the one whose rows are combined
            # a new record: read_dataset's are shared with the frame's slices (hwprof.dataset.Provenance)
            frame.attrs["provenance"][-1] = {**frame.attrs["provenance"][-1], "row_speeds": spread}
    runs = [run for frame in read for run in frame.attrs["provenance"]]
    frames = [frame.assign(_process=k) for k, frame in enumerate(read)]
    parts = _sample_parts(shards, read)
    frame = pd.concat(frames, ignore_index=True)
    rows = []
    for _, group in frame.groupby(list(ROW_KEY), sort=False, dropna=False):  # a null seq_len is a key too
        group = group.drop_duplicates("_process", keep="last")  # a resumed worker holds one row per key
        row = _combined_row(group, precision)
        if row["kind"] == "network":
            row.update(pooled_tail(parts.get(combined_key(row))))
        rows.append(row)
    return Combined(rows, runs, _pooled(parts), worker_speeds(read))


def _row_factors(frames: list):
    """The log of each row's latency in each worker over the row's median across workers, a row per row all of
    them measured (a layer configuration once, however many layers share it), a column per worker; None for one
    worker or no row measured by all."""
    import numpy as np
    import pandas as pd

    if len(frames) < 2:
        return None
    latencies = pd.concat(
        [
            frame.drop_duplicates(list(ROW_KEY), keep="last").set_index(list(ROW_KEY))["latency_ms"].astype(float)
            for frame in frames
        ],
        axis=1,
    )
    latencies = latencies[(latencies > 0).all(axis=1)].drop_duplicates()  # a configuration's layers share a median
    if latencies.empty:
        return None
    logs = np.log(latencies.to_numpy())
    return logs - np.median(logs, axis=1, keepdims=True)


def worker_speeds(frames: list) -> list[float] | None:
    """Each worker's latencies over the other workers', as one factor: the median over the rows all of them
    measured of its latency over the row's median across workers (_row_factors). 1.15 is a worker that ran the
    typical row about 15% slower: the machine changed speed between processes (four workers on our test VM:
    0.92-1.15, BENCHMARKS.md), which no interval within a process shows and which a rerun in one process lands
    anywhere in; whether every row moved alike, row_speeds tells. None for one worker or no row measured by all."""
    import numpy as np

    factors = _row_factors(frames)
    if factors is None:
        return None
    return [round(float(factor), 4) for factor in np.exp(np.median(factors, axis=0))]


SPREAD_ROWS = 4  # rows all workers measured, at least, for the middle half of their factors to say anything


def row_speeds(frames: list) -> list[list[float]] | None:
    """Each worker's middle half of its rows' factors (the 25th and 75th percentile of each row's latency over
    the row's median across workers), beside its one factor (worker_speeds, their median): [0.6, 1.6] is a
    worker whose rows ran each at its own speed, not at one speed changed for all. None for one worker or fewer
    than SPREAD_ROWS rows measured by all."""
    import numpy as np

    factors = _row_factors(frames)
    if factors is None or len(factors) < SPREAD_ROWS:
        return None
    quartiles = np.exp(np.percentile(factors, [25, 75], axis=0))
    return [[round(float(low), 4), round(float(high), 4)] for low, high in quartiles.T]


ROW_KEY = ("model", "batch_size", "seq_len", "kind", "layer_index")  # what combine_shards combines rows by


def combined_key(row: dict) -> tuple:
    """A row's ROW_KEY values, a null (no sequence length) as None whichever way pandas spelled it."""
    import pandas as pd

    return tuple(None if pd.isna(row.get(column)) else row.get(column) for column in ROW_KEY)


def _pooled(parts: dict[tuple, list[RawSamples]]) -> dict[tuple, RawSamples]:
    """Each row's raw samples from every worker, one worker's after another, each sample with the loop count
    its worker calibrated and the worker's number (the samples sidecar keeps them so, and the row's median of
    the workers' medians can be recomputed from it)."""
    from hwprof.samples import RawSamples

    return {
        key: RawSamples(
            tuple(s for raw in group for s in raw.seconds_per_call),
            tuple(n for raw in group for n in raw.loops),
            tuple(k for raw in group for k in raw.process),
        )
        for key, group in parts.items()
    }


def _sample_parts(shards: list[Path], frames: list) -> dict[tuple, list[RawSamples]]:
    """Each row's raw samples, one RawSamples per worker, its samples marked with the worker's number (1 to N,
    the order of the shards and of the workers' provenance), keyed as combine_shards groups rows. Rows a worker
    kept no samples for have none. `frames` are the shards' rows as read_dataset read them."""
    from hwprof.samples import RawSamples, grouped, read_samples, row_key

    pooled: dict[tuple, list] = {}
    missing: set[tuple] = set()
    for number, (shard, frame) in enumerate(zip(shards, frames, strict=True), start=1):
        table = read_samples(shard)
        found = {} if table is None else grouped(table)
        for row in frame.drop_duplicates(list(ROW_KEY), keep="last").to_dict("records"):
            key = combined_key(row)
            raw = found.get((row["run_id"], row_key(row)))
            if raw is None:
                missing.add(key)
            else:
                pooled.setdefault(key, []).append(
                    RawSamples(raw.seconds_per_call, raw.loops, (number,) * len(raw.loops))
                )
    return {key: parts for key, parts in pooled.items() if key not in missing}


def pooled_tail(parts: list[RawSamples] | None) -> dict:
    """p90/p99 by nearest rank over every worker's samples pooled, each worker weighing alike, as in the row's
    median of the workers' medians (None without them)."""
    groups = [list(raw.seconds_per_call) for raw in parts or () if raw.seconds_per_call]
    if not groups:
        return {"latency_ms_p90": None, "latency_ms_p99": None}
    return {
        "latency_ms_p90": percentile_of_groups(groups, 90) * 1e3,
        "latency_ms_p99": percentile_of_groups(groups, 99) * 1e3,
    }


POWER_MEDIANS = ("power_w", "idle_power_w", "energy_mj", "dynamic_energy_mj")


def _combined_row(group, precision: float) -> dict:
    import pandas as pd

    first = group.iloc[0].to_dict()
    latency = group["latency_ms"].astype(float)
    medians = latency.tolist()
    # each side apart: a process's interval is lopsided (a slow tail), and their mean cut the slow side
    center, below = combine_processes(medians, (latency - group["latency_ms_ci_low"].astype(float)).tolist())
    _, above = combine_processes(medians, (group["latency_ms_ci_high"].astype(float) - latency).tolist())
    within_std = statistics.median(group["latency_ms_std"].astype(float))
    between_std = statistics.stdev(medians) if len(medians) > 1 else 0.0
    measure_s = group["measure_s"].astype(float)
    share = group["other_cpu_share"].astype(float)
    observed = share.notna()
    flags = sorted({flag for text in group["power_flags"].dropna() for flag in str(text).split(",") if flag})
    row = {
        **{key: value for key, value in first.items() if key != "_process" and key != "run_id"},
        "latency_ms": center,
        "latency_ms_ci_low": max(center - below, 0.0),
        "latency_ms_ci_high": center + above,
        "latency_ms_std": math.hypot(within_std, between_std),
        "samples": int(group["samples"].sum()),
        # each worker calibrates its own loop count: the middle worker's (the lower of two), one its samples used
        "iterations": int(statistics.median_low(group["iterations"].astype(int))),
        # either side past the precision fails it, as a process's own rows are judged (Summary.relative_half_width)
        "stable": bool(group["stable"].astype(bool).all())
        and below <= precision * center
        and above <= precision * center,
        "measure_s": float(measure_s.sum()),
        "other_cpu_share": (
            float((share[observed] * measure_s[observed]).sum() / measure_s[observed].sum())
            if observed.any() and measure_s[observed].sum() > 0
            else None
        ),
        "discarded_bursts": int(group["discarded_bursts"].fillna(0).sum()),
        "processes": int(len(group)),
        "power_flags": ",".join(flags) if flags else first.get("power_flags"),
    }
    for column in POWER_MEDIANS:
        values = group[column].dropna().astype(float)
        row[column] = float(values.median()) if len(values) else None
    return {
        key: (None if value is not None and pd.api.types.is_scalar(value) and pd.isna(value) else value)
        for key, value in row.items()
    }


def remove_work_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
