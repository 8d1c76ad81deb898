"""The power-trace file written by `measure --trace`: every sensor sample, one row each.

A long table (timestamp_s, sensor, power_w), Parquet (with the format version in
its schema metadata) or CSV. This module is the format's one owner.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwprof.errors import HwprofError
from hwprof.files import write_atomically

FORMAT_VERSION = 1
VERSION_KEY = b"hwprof_trace_version"
TRACE_COLUMNS = ("timestamp_s", "sensor", "power_w")


def _trace_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise HwprofError(f"trace file {path} must end in .parquet or .csv")


def write_trace(samples, path: str | os.PathLike) -> Path:
    """Write (timestamp_s, sensor, power_w) rows as a long table, atomically (temp file, then rename)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    file_format = _trace_format(path)
    rows = [tuple(s.as_trace_row()) if hasattr(s, "as_trace_row") else tuple(s) for s in samples]
    frame = pd.DataFrame(rows, columns=list(TRACE_COLUMNS)).astype(
        {"timestamp_s": "float64", "sensor": "string", "power_w": "float64"}
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "csv":
            write_atomically(path, lambda temporary: frame.to_csv(temporary, index=False))
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), VERSION_KEY: str(FORMAT_VERSION)})
            write_atomically(path, lambda temporary: pq.write_table(table, temporary))
    except OSError as error:
        raise HwprofError(f"cannot write the trace {path}: {error.strerror or error}") from None
    return path


def read_trace(path: str | os.PathLike):
    """A trace written by `write_trace`, as a DataFrame; HwprofError if it is not one."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise HwprofError(f"trace file {path} does not exist")
    try:
        frame = pd.read_csv(path) if _trace_format(path) == "csv" else pd.read_parquet(path)
    except HwprofError:
        raise
    except Exception as error:
        raise HwprofError(f"cannot read the trace {path}: {error}") from None
    missing = [c for c in TRACE_COLUMNS if c not in frame.columns]
    if missing:
        raise HwprofError(f"{path} is not a power trace: it lacks the column(s) {', '.join(missing)}")
    return frame
