"""The raw-samples sidecar (`<dataset>.samples.parquet`): every timing sample behind every row.

A dataset row keeps the median and its interval; a significance test between two
runs (`hwprof compare`) needs the samples themselves. They go to a long table
beside the dataset, one row per sample: `run_id` and `key` link it to dataset
rows (`row_key`: a layer row's `config_id`, a network row's model and batch
size), `sample` numbers the samples of one measurement, `seconds_per_call` is
the sample, `loops` the calls it averaged and `process` the worker that took it
in a `--processes N` run (1 to N, null otherwise), so that a combined row's
median of the workers' medians can be recomputed. `DatasetWriter` writes it as
rows come, `merge` carries it, `--resume` keeps it. This module is the format's one
owner; a dataset without the sidecar is still a whole dataset.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hwprof.errors import HwprofError, error_text
from hwprof.files import SAMPLES_SUFFIX as SUFFIX
from hwprof.files import companion_exists, followed, write_atomically, write_parquet

FORMAT_VERSION = 1
VERSION_KEY = b"hwprof_samples_version"
COLUMNS = ("run_id", "key", "sample", "seconds_per_call", "loops", "process")
DTYPES = {
    "run_id": "string",
    "key": "string",
    "sample": "int64",
    "seconds_per_call": "float64",
    "loops": "int64",
    "process": "Int64",
}
ADDED_COLUMNS = ("process",)  # absent from sidecars written before it: read back as null


def samples_path(dataset: str | os.PathLike) -> Path:
    """Beside the dataset's file, through a link to it."""
    return Path(f"{followed(dataset)}{SUFFIX}")


@dataclass(frozen=True)
class RawSamples:
    """One measurement's samples: seconds per call, how many calls each sample averaged, and for samples pooled
    from the workers of `--processes N`, which worker (1 to N) took each."""

    seconds_per_call: tuple[float, ...]
    loops: tuple[int, ...]
    process: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.seconds_per_call) != len(self.loops):
            raise ValueError("every sample needs its loop count")
        if self.process is not None and len(self.process) != len(self.loops):
            raise ValueError("every sample needs its process")

    @classmethod
    def uniform(cls, seconds_per_call: Sequence[float], loops: int) -> RawSamples:
        """Samples that all averaged the same number of calls, as one runner calibrates them."""
        return cls(tuple(float(s) for s in seconds_per_call), (int(loops),) * len(seconds_per_call))


def row_key(row) -> str | None:
    """What links a dataset row to its samples within its run; None where there is nothing to link.

    Layer rows of one configuration share a measurement and so their config_id; a run times each
    (model, batch size, sequence length) network once."""
    if row.get("kind") == "network":
        model, batch_size = row.get("model"), row.get("batch_size")
        if model is None or batch_size is None or pd.isna(model) or pd.isna(batch_size):
            return None
        seq_len = row.get("seq_len")  # a model swept over sequence lengths is timed once per length
        length = "" if seq_len is None or pd.isna(seq_len) else f":seq_len={int(seq_len)}"
        return f"network:{int(batch_size)}:{model}{length}"
    config_id = row.get("config_id")
    return None if config_id is None or pd.isna(config_id) else str(config_id)


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=DTYPES[column]) for column in COLUMNS})


def samples_frame(records: Iterable[tuple[str, str, RawSamples]]) -> pd.DataFrame:
    """The long table of (run_id, key, samples) records."""
    columns: dict[str, list] = {column: [] for column in COLUMNS}
    for run_id, key, raw in records:
        count = len(raw.seconds_per_call)
        columns["run_id"] += [run_id] * count
        columns["key"] += [key] * count
        columns["sample"] += list(range(count))
        columns["seconds_per_call"] += list(raw.seconds_per_call)
        columns["loops"] += list(raw.loops)
        columns["process"] += [None] * count if raw.process is None else list(raw.process)
    return pd.DataFrame(columns).astype(DTYPES)


def concat_samples(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One long table from several, typed (empty ones skipped: their dtypes would blur the union's)."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return empty_samples()
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)].astype(DTYPES)


def grouped(frame: pd.DataFrame) -> dict[tuple[str, str], RawSamples]:
    """(run_id, key) -> RawSamples, in sample order."""
    import numpy as np

    ordered = frame.sort_values("sample", kind="stable")
    groups = ordered.groupby(["run_id", "key"], sort=False).ngroup().to_numpy()  # -1: a missing run id or key
    rows = np.argsort(groups, kind="stable")  # each target's samples together, in sample order
    rows = rows[groups[rows] >= 0]
    starts = np.flatnonzero(np.diff(groups[rows], prepend=-1))
    # one pass over plain lists: a pandas group per target took seconds on a 50,000-row dataset's sidecar
    run_ids, keys = ordered["run_id"].to_numpy()[rows].tolist(), ordered["key"].to_numpy()[rows].tolist()
    seconds = ordered["seconds_per_call"].to_numpy(dtype=float)[rows].tolist()
    loops = ordered["loops"].to_numpy(dtype="int64")[rows].tolist()
    missing_process = ordered["process"].isna().to_numpy()[rows]
    process = ordered["process"].fillna(0).to_numpy(dtype="int64")[rows].tolist()
    found = {}
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(rows)]):
        found[(run_ids[start], keys[start])] = RawSamples(
            tuple(seconds[start:end]),
            tuple(loops[start:end]),
            None if missing_process[start:end].any() else tuple(process[start:end]),
        )
    return found


def write_samples(dataset: str | os.PathLike, frame: pd.DataFrame) -> Path:
    """Write the sidecar of `dataset` atomically, with the format version in its metadata."""
    import pyarrow as pa

    path = samples_path(dataset)
    table = pa.Table.from_pandas(frame[list(COLUMNS)].astype(DTYPES), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), VERSION_KEY: str(FORMAT_VERSION)})
    write_atomically(path, lambda temporary: write_parquet(table, temporary))
    return path


def read_samples(dataset: str | os.PathLike) -> pd.DataFrame | None:
    """The sidecar of `dataset`, checked; None when the dataset has none."""
    import pyarrow.parquet as pq

    path = samples_path(dataset)
    if not companion_exists(path):
        return None
    try:
        with open(path, "rb") as handle:  # one open: a sidecar replaced meanwhile is read whole, old or new
            table = pq.read_table(handle)
    except Exception as error:  # pyarrow raises many types for a damaged file
        reason = error_text(error)
        raise HwprofError(
            f"Could not read the raw samples {path} ({reason}); move it away to use {Path(dataset).name} without them."
        ) from None
    version = (table.schema.metadata or {}).get(VERSION_KEY, b"?").decode()
    if version != str(FORMAT_VERSION):
        raise HwprofError(
            f"{path} has raw-samples format version {version}, but this hwprof reads version {FORMAT_VERSION}; "
            "use the hwprof that wrote it, or move the file away to use the dataset without its samples."
        )
    missing = [column for column in COLUMNS if column not in table.column_names and column not in ADDED_COLUMNS]
    if missing:
        raise HwprofError(f"{path} lacks the column(s) {', '.join(missing)}, so it is not an hwprof raw-samples file.")
    frame = table.to_pandas()
    for column in ADDED_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return frame[list(COLUMNS)].astype(DTYPES)
