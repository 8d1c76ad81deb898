"""The power-trace file written by `measure --trace` and `run --trace`: every sensor sample, one row each.

A long table (timestamp_s, sensor, power_w, window, window_start_s, window_stop_s, run_id),
Parquet (with the format version in its schema metadata) or CSV. `window` says which
measurement window the sample fell in ("idle" or "load"), and the window's bounds
(epoch seconds) come with it, so a plot can shade each window exactly; `run_id` is the
run (of the dataset beside it) that took the sample, so a measure never replaces the
trace of another dataset's runs (hwprof.dataset.check_trace_owner). Version 1 files have no window
columns, versions 1 and 2 no run_id; they read back with those columns empty. This
module is the format's one owner (hwprof.measuring.energy.trace_rows makes a window's rows).
"""

from __future__ import annotations

import os
from pathlib import Path

from hwprof.errors import HwprofError
from hwprof.files import check_name_fits, write_atomically, write_parquet
from hwprof.schema import kind_words, value_kind

FORMAT_VERSION = 3
VERSION_KEY = b"hwprof_trace_version"
TRACE_COLUMNS = ("timestamp_s", "sensor", "power_w")  # every version has these
WINDOW_COLUMNS = ("window", "window_start_s", "window_stop_s")  # from version 2
RUN_COLUMN = "run_id"  # from version 3
WINDOW_KINDS = ("idle", "load")


_DTYPES = {
    "timestamp_s": "float64",
    "sensor": "string",
    "power_w": "float64",
    "window": "string",
    "window_start_s": "float64",
    "window_stop_s": "float64",
    RUN_COLUMN: "string",
}


def trace_path_for(dataset: str | os.PathLike) -> str:
    """Where the trace of the dataset at `dataset` goes: its stem + .trace.parquet (cpu.parquet -> cpu.trace.parquet)."""
    text = os.fspath(dataset)
    stem = text[: -len(".csv")] if text.lower().endswith(".csv") else text.removesuffix(".parquet")
    return f"{stem}.trace.parquet"


def _trace_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise HwprofError(f"trace file {path} must end in .parquet or .csv")


def write_trace(samples, path: str | os.PathLike, run_id: str | None = None) -> Path:
    """Write trace rows as a long table, atomically (temp file, then rename).

    A row is (timestamp_s, sensor, power_w), optionally followed by (window, window_start_s,
    window_stop_s) and its run_id, or a PowerSample; a row without a run_id gets `run_id`."""
    import pandas as pd

    path = Path(path)
    _trace_format(path)  # a path that is no trace file is refused before the rows are read
    rows = [tuple(s.as_trace_row()) if hasattr(s, "as_trace_row") else tuple(s) for s in samples]
    width = len(TRACE_COLUMNS) + len(WINDOW_COLUMNS)
    rows = [row + (None,) * (width - len(row)) + ((run_id,) if len(row) <= width else ()) for row in rows]
    return write_trace_frame(pd.DataFrame(rows, columns=list(_DTYPES)), path)


def write_trace_frame(frame, path: str | os.PathLike) -> Path:
    """Write a frame of trace rows (a DataFrame holding the trace columns, run_id among them: read_trace's, or
    write_trace's) as a long table, atomically (temp file, then rename): its trace columns only, in the trace
    dtypes."""
    import pyarrow as pa

    path = Path(path)
    file_format = _trace_format(path)
    frame = frame[list(_DTYPES)].astype(_DTYPES)
    frame.attrs = {}  # only the values are written: never attributes a frame read back carried with it
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "csv":
            write_atomically(path, lambda temporary: frame.to_csv(temporary, index=False))
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), VERSION_KEY: str(FORMAT_VERSION)})
            write_atomically(path, lambda temporary: write_parquet(table, temporary))
    except OSError as error:
        raise HwprofError(f"cannot write the trace {path}: {error.strerror or error}") from None
    return path


def read_trace(path: str | os.PathLike):
    """A trace written by `write_trace`, as a DataFrame; HwprofError if it is not one."""
    import pandas as pd

    path = Path(path)
    check_name_fits(path)  # before is_file, which a name past the system's limit makes raise
    if not path.is_file():
        raise HwprofError(f"trace file {path} does not exist")
    try:
        if _trace_format(path) == "csv":
            frame = pd.read_csv(path)
        else:
            with open(path, "rb") as handle:  # pyarrow cannot take every name open() takes (files.write_parquet)
                frame = pd.read_parquet(handle)
    except HwprofError:
        raise
    except Exception as error:
        raise HwprofError(f"cannot read the trace {path}: {error}") from None
    missing = [c for c in TRACE_COLUMNS if c not in frame.columns]
    if missing:
        raise HwprofError(f"{path} is not a power trace: it lacks the column(s) {', '.join(missing)}")
    for column in (*WINDOW_COLUMNS, RUN_COLUMN):  # version 1 has no windows, versions 1 and 2 no run_id
        if column not in frame.columns:
            frame[column] = None
    return _typed(path, frame)


def trace_rows_of(path: str | os.PathLike) -> list[tuple]:
    """Every row of the trace at `path`, run_id last, for write_trace to write again with more after them."""
    return list(read_trace(path)[list(_DTYPES)].itertuples(index=False, name=None))


def append_trace(samples, path: str | os.PathLike, run_id: str) -> Path:
    """Write `samples` after the rows the trace at `path` already holds (none where there is no file yet)."""
    earlier = trace_rows_of(path) if Path(path).exists() else []
    return write_trace(earlier + list(samples), path, run_id)


def _typed(path: Path, frame):
    """`frame` in the trace dtypes; HwprofError naming the column that is not numbers (a hand-edited CSV)."""
    for column, dtype in _DTYPES.items():
        try:
            frame[column] = frame[column].astype(dtype)
        except (TypeError, ValueError):
            kind = value_kind(frame[column])
            raise HwprofError(
                f"{path} is not a power trace: column {column} holds {kind_words(kind)} where hwprof writes numbers"
            ) from None
    return frame
