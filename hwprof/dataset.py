"""Datasets on disk: written as measured, never lost, read back with checks.

`DatasetWriter` makes every row durable as soon as `write` returns: rows go to
a journal (`<out>.partial.jsonl`, fsynced) and the table itself is replaced
atomically, so a crash or Ctrl-C keeps what was measured and `resume=True`
carries on from it. Provenance of every run lives in the Parquet schema
metadata (key b"hwprof") and in a JSON sidecar (`<out>.json`); the raw timing
samples behind the rows, where given, in `<out>.samples.parquet`
(`hwprof.samples`), journalled and rewritten with the rows.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from hwprof.errors import (
    HwprofError,
    UnfinishedDatasetWarning,
    each_call_warns_afresh,
    error_text,
    option,
    shown,
    true_or_false,
    warn,
)
from hwprof.files import (
    JOURNAL_SUFFIX,
    LOCK_SUFFIX,
    WORKERS_SUFFIX,
    ExclusiveLock,
    LockedError,
    as_path,
    as_paths,
    check_name_fits,
    check_output,
    companion_exists,
    first_bytes,
    followed,
    holder_of,
    now_text,
    open_lock_file,
    replaced_together,
    same_file,
    try_lock,
    unlock,
    write_atomically,
    write_parquet,
)
from hwprof.files import PROVENANCE_SUFFIX as SIDECAR_SUFFIX
from hwprof.interrupts import signals_deferred
from hwprof.samples import SUFFIX as SAMPLES_SUFFIX
from hwprof.samples import (
    RawSamples,
    concat_samples,
    empty_samples,
    grouped,
    read_samples,
    row_key,
    samples_frame,
    samples_path,
    write_samples,
)
from hwprof.schema import (
    ALL_COLUMNS,
    ALLOCATOR_BEFORE_RECORDED,
    BOOL_COLUMNS,
    CACHE_BEFORE_RECORDED,
    CONTENDED_SHARE,
    DEFAULT_CACHE_MODE,
    FLOAT_COLUMNS,
    IDENTITY_COLUMNS,
    INT_COLUMNS,
    MIN_BOUNDED_SAMPLES,
    REQUIRED_COLUMNS,
    SCHEMA_VERSION,
    SETTINGS_BEFORE_RECORDED,
    SWEEP_PREFIX,
    kind_words,
    value_kind,
)
from hwprof.traces import RUN_COLUMN, read_trace, trace_path_for, write_trace_frame

METADATA_KEY = b"hwprof"
TEXT_COLUMNS = tuple(c for c in ALL_COLUMNS if c not in INT_COLUMNS + FLOAT_COLUMNS + BOOL_COLUMNS)
RUN_STATUSES = ("running", "complete", "interrupted", "failed")


def run_status(error: BaseException | None) -> str:
    """What a run that ended on `error` records: complete (None), interrupted (Ctrl-C, SIGTERM) or failed."""
    if error is None:
        return "complete"
    return "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"


def is_csv(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".csv")


def journal_path(path: str | os.PathLike) -> Path:
    """Beside the dataset's file, through a link to it (files.followed), as are its sidecars and lock."""
    return Path(f"{followed(path)}{JOURNAL_SUFFIX}")


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(f"{followed(path)}{SIDECAR_SUFFIX}")


# ---------------------------------------------------------------- column types


def expected_kind(column: str) -> str:
    """ "number", "boolean" or "text": what a schema column holds."""
    if column in INT_COLUMNS or column in FLOAT_COLUMNS:
        return "number"
    return "boolean" if column in BOOL_COLUMNS else "text"


def _typed_column(column: str, series: pd.Series) -> pd.Series:
    """`series` in its schema dtype; ValueError with a sentence fragment if it cannot be."""
    expected, actual = expected_kind(column), value_kind(series)
    if actual is None:
        return pd.Series([None] * len(series), index=series.index, dtype=object).astype(_dtype(column))
    if actual != expected:
        raise ValueError(f"column {column} holds {kind_words(actual)} where hwprof writes {kind_words(expected)}")
    if column in INT_COLUMNS:
        try:
            return series.astype("Int64")
        except (TypeError, ValueError):
            raise ValueError(f"column {column} holds fractions where hwprof writes whole numbers") from None
    return series.astype(_dtype(column))


def _dtype(column: str) -> str:
    if column in INT_COLUMNS:
        return "Int64"
    if column in FLOAT_COLUMNS:
        return "float64"
    return "boolean" if column in BOOL_COLUMNS else "string"


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Schema columns first, in order and in their dtypes (missing ones null); others kept after."""
    columns = {}
    for column in ALL_COLUMNS:
        source = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index, dtype=object)
        columns[column] = _typed_column(column, source)
    for column in frame.columns:
        if column not in columns:
            columns[column] = frame[column]
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)


def empty_frame() -> pd.DataFrame:
    return typed(pd.DataFrame(columns=list(ALL_COLUMNS)))


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Typed union of frames, skipping empty ones (their all-null columns would blur dtypes)."""
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return empty_frame()
    return typed(frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))


def _plain_value(column: str, value):
    """`value` as the JSON/Python value its column holds (None for null); ValueError if it does not fit."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    kind = expected_kind(column)
    if kind == "text" and isinstance(value, str) or kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if column in FLOAT_COLUMNS:
            return float(value)
        if isinstance(value, int) or value.is_integer():
            return int(value)
        raise ValueError(f"column {column} holds fractions ({value!r}) where hwprof writes whole numbers")
    raise ValueError(f"column {column} holds {type(value).__name__} {value!r} where hwprof writes {kind_words(kind)}")


def plain_row(row: dict, run_id: str) -> dict:
    """A measured row with every schema column, checked without pandas (write() is on the hot path)."""
    unknown = sorted(set(row) - set(ALL_COLUMNS))
    if unknown:
        raise ValueError(f"row has columns that are not in hwprof.schema: {unknown}")
    if row.get("run_id") not in (None, run_id):
        raise ValueError(f"row carries run_id {row['run_id']!r} but this run is {run_id!r}")
    plain = {column: _plain_value(column, row.get(column)) for column in ALL_COLUMNS}
    plain["run_id"] = run_id
    return plain


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Typed frame of rows that went through plain_row."""
    return typed(pd.DataFrame(rows, columns=list(ALL_COLUMNS))) if rows else empty_frame()


# ---------------------------------------------------------------- reading


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A plain read of a Parquet or CSV file (by extension), no schema checks."""
    return _read_table(Path(path))[0]


def _read_table(path: Path) -> tuple[pd.DataFrame, dict | None]:
    """read_table's frame, with a Parquet file's key-value metadata read from the same open file (None for a
    CSV file): a file replaced between two opens would give one file's rows with the other's provenance."""
    check_name_fits(path)
    workers = Path(f"{path}{WORKERS_SUFFIX}")
    if not path.exists() and companion_exists(workers) and workers.is_dir():
        raise HwprofError(
            f"Dataset {path} does not exist yet: its --processes run did not finish, and its workers' rows are in "
            f"{workers}; run the same hwprof measure command with --resume to finish and combine them."
        )
    if not path.exists() and companion_exists(journal_path(path)):
        raise HwprofError(_table_never_written(path, journal_path(path)))
    if not path.exists() and (writer := writer_of(path)) is not None:  # a run whose first rows are not in yet
        raise HwprofError(
            f"Dataset {path} does not exist yet: {writer} is writing it; read it again when its run ends."
        )
    if not path.exists():
        raise HwprofError(f"Dataset {path} does not exist.")
    if path.name.endswith(SAMPLES_SUFFIX):
        raise HwprofError(_samples_not_dataset(path))
    if path.is_dir():
        raise HwprofError(f"Dataset {path} is a directory; give the path of a .parquet or .csv file.")
    if is_csv(path):
        _check_comma_separated(path)
    try:
        if is_csv(path):
            # Text columns as text: a Sequential's layer names "0", "1" must not become numbers.
            frame = pd.read_csv(path, dtype={c: "string" for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""])
            metadata = None
        else:
            with open(path, "rb") as handle:  # one open: a file replaced meanwhile is read whole, old or new
                frame = pd.read_parquet(handle)
                metadata = _parquet_metadata(handle)
    except Exception as error:  # pyarrow and pandas raise many types for a damaged file
        kind = "CSV" if is_csv(path) else "Parquet"
        if kind == "Parquet" and first_bytes(path, 1) == b"{":  # a JSON file hwprof wrote, given as a dataset
            owner = Path(str(path).removesuffix(SIDECAR_SUFFIX))
            what = f"the provenance of {owner}" if owner != path and owner.is_file() else "a JSON file (a predictor?)"
            raise HwprofError(f"{path} is {what}, not a dataset; give a .parquet or .csv dataset.") from None
        reason = error_text(error)
        raise HwprofError(f"Could not read {path} as a {kind} file ({reason}).") from None
    return _power_flags_as_measured(frame), metadata


def _parquet_metadata(handle) -> dict:
    """The key-value metadata of the Parquet file open as `handle` ({} where it cannot be read)."""
    import pyarrow.parquet as pq

    try:
        handle.seek(0)
        return pq.read_schema(handle).metadata or {}
    except Exception:  # pyarrow raises many types for a damaged footer; the table read says what is wrong
        return {}


def _power_flags_as_measured(frame: pd.DataFrame) -> pd.DataFrame:
    """power_flags in its one meaning, whichever file held it: null where no power was measured (and nothing
    flagged), "" where power was measured and nothing flagged. A CSV file writes both as an empty field, which
    is read back by the row's power_w; Parquet files from hwprof run before this rule held "" without power."""
    if "power_flags" not in frame.columns or "power_w" not in frame.columns:
        return frame
    flags = frame["power_flags"]
    measured = pd.to_numeric(frame["power_w"], errors="coerce").notna()
    clean = flags.isna() | flags.astype(object).eq("")
    frame["power_flags"] = flags.mask(clean & measured, "").mask(clean & ~measured, None)
    return frame


def _check_comma_separated(path: Path) -> None:
    """Refuse a CSV separated by semicolons, as a spreadsheet saves one where the comma is the decimal mark,
    in words: pandas would fail on its first comma inside a field, naming a tokenizer."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
    except OSError:  # the read itself says why
        return
    if ";" in header and "," not in header:
        raise HwprofError(
            f"{path} is separated by semicolons, as a spreadsheet saves CSV in some languages; hwprof reads "
            "comma-separated CSV: save it with commas between fields and points as decimal marks"
        )


def _read_metadata_document(path: Path, frame: pd.DataFrame | None = None, metadata: dict | None = None) -> dict | None:
    """The {"schema_version", "runs"} document from the Parquet metadata or the sidecar; a sidecar is checked
    to describe the runs of `frame` (the table as read), where given. `metadata`: the Parquet file's, read with
    `frame` (None: read here)."""
    if not is_csv(path):
        if metadata is None:
            try:
                with open(path, "rb") as handle:
                    metadata = _parquet_metadata(handle)
            except OSError:
                metadata = {}
        if METADATA_KEY in metadata:
            try:
                document = json.loads(metadata[METADATA_KEY])
            except ValueError:
                raise HwprofError(f"The hwprof metadata inside {path} is damaged JSON.") from None
            damage = _document_damage(document)
            if damage:
                raise HwprofError(f"The hwprof metadata inside {path} is damaged: {damage}.")
            return document
    sidecar = sidecar_path(path)
    if not companion_exists(sidecar):
        return None
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HwprofError(f"Could not read the provenance sidecar {sidecar} ({error}).") from None
    damage = _document_damage(document)
    if damage:
        raise HwprofError(
            f"The provenance sidecar {sidecar} is damaged: {damage}; put the right one back, or move it away to read "
            "the dataset without provenance."
        )
    if frame is not None:
        _check_sidecar_covers(path, sidecar, document, frame)
    return document


# What hwprof writes in a run's provenance as an object or as a list of strings: another kind there is damage,
# refused where the document is read, not met as a crash by whichever command looks inside it first.
RUN_OBJECTS = (
    "allocator",
    "allow_tf32",
    "cache",
    "contention",
    "cpu_id",
    "env",
    "execution",
    "method",
    "plan",
    "power",
)
RUN_ARGUMENT_LISTS = ("argv", "command")


def _document_damage(document: object) -> str | None:
    """What is wrong with the shape of a provenance document ({"schema_version", "runs": [run, ...]}), None when
    nothing is."""
    if not isinstance(document, dict):
        return f"it holds {type(document).__name__}, not an object"
    runs = document.get("runs", [])
    if not isinstance(runs, list):
        return f'its "runs" is {_brief(runs)}, not a list'
    for number, run in enumerate(runs, start=1):
        damage = _run_damage(run)
        if damage:
            return f"its run {number} {damage}"
    return None


def _run_damage(run: object) -> str | None:
    """What is wrong with the shape of one run's provenance, None when nothing is."""
    if not isinstance(run, dict):
        return f"is {_brief(run)}, not an object"
    for key in RUN_OBJECTS:
        if run.get(key) is not None and not isinstance(run[key], dict):
            return f'has "{key}": {_brief(run[key])}, not an object'
    for key in RUN_ARGUMENT_LISTS:
        value = run.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(arg, str) for arg in value)):
            return f'has "{key}": {_brief(value)}, not a list of strings'
    allocator = run.get("allocator") or {}
    for key in ("policy", "library"):  # read as text by every allocator label
        if allocator.get(key) is not None and not isinstance(allocator[key], str):
            return f'has "allocator.{key}": {_brief(allocator[key])}, not text'
    return None


def _brief(value: object) -> str:
    """A damaged value as written, cut to a sentence's length."""
    text = shown(value)
    return text if len(text) <= 40 else f"{text[:40]}..."


class StaleSidecarError(HwprofError):
    """A provenance sidecar that does not list the runs of the table read beside it."""


def _check_sidecar_covers(path: Path, sidecar: Path, document: object, frame: pd.DataFrame) -> None:
    """Refuse a sidecar that does not list the runs of the table beside it (copied from another dataset, or
    left by an earlier file of that name): its thread counts, machine and settings would be taken for the
    rows' own, and decisions made on them (fit's one thread count)."""
    if "run_id" not in frame.columns or not isinstance(document, dict):
        return
    listed = {str(run.get("run_id")) for run in document.get("runs") or [] if isinstance(run, dict)}
    missing = sorted(set(frame["run_id"].dropna().astype(str)) - listed)
    if missing:
        raise StaleSidecarError(
            f"The provenance sidecar {sidecar} does not describe the rows of {path} (their run {missing[0][:8]} is "
            f"not among its runs{f', nor {len(missing) - 1} more' if len(missing) > 1 else ''}): it is stale or "
            "belongs to another dataset; put the right one back, or move it away to read the dataset without "
            "provenance."
        )


def read_provenance(path: str | os.PathLike) -> list[dict]:
    """Provenance of every run in the dataset at `path`; empty if it carries none. A run recorded as
    running whose writer is gone (killed) reads as interrupted: nothing will finish it but a resume."""
    document = _read_metadata_document(Path(path))
    return _honest_runs(Path(path), document)


def writer_of(path: str | os.PathLike) -> str | None:
    """Who is writing the dataset at `path` now ("hwprof measure (pid 123)"), None when no live process is.

    The writer holds a lock on `<path>.lock` (hwprof.files.ExclusiveLock) for as long as it runs, and the
    system drops it when the process dies, however it dies; so a lock file that can be locked is a leftover
    of a killed run. The probe takes a shared lock (exclusive on Windows) and gives it back at once."""
    try:
        handle = open_lock_file(Path(f"{followed(path)}{LOCK_SUFFIX}"), os.O_RDONLY)
    except (OSError, HwprofError):  # no lock file: no writer (ExclusiveLock removes it when released, takes no link)
        return None
    with handle:
        try:
            try_lock(handle, shared=True)
        except BlockingIOError:
            return holder_of(handle)
        except OSError:  # a file system (or system) without locks: nothing to tell, so nothing is claimed
            return None
        unlock(handle)
    return None


def _honest_runs(path: Path, document: dict | None) -> list[dict]:
    """The runs of `path`'s provenance document (none without one), each "running" one marked interrupted
    unless a live process is still writing `path`."""
    runs = list((document or {}).get("runs", []))
    if not any(run.get("status") == "running" for run in runs) or writer_of(path) is not None:
        return runs
    return [{**run, "status": "interrupted"} if run.get("status") == "running" else run for run in runs]


def unfinished_note(path: str | os.PathLike, frame: pd.DataFrame | None = None) -> str | None:
    """One sentence about the run still in the journal beside `path`, None when there is none: whether its
    writer still runs, how many of its rows the table does not hold yet (`frame`: the table as read), and
    how to recover them. Reads never fold journal rows in: the table is what was written."""
    path = Path(path)
    journal = journal_path(path)
    if not companion_exists(journal):
        return None
    provenance, rows = _journal_or_none(journal)
    writer = writer_of(path)
    if rows is None:
        more = f"its journal {journal.name} beside it cannot be read back"
    else:
        run_id = (provenance or {}).get("run_id")
        held = int(frame["run_id"].eq(run_id).sum()) if frame is not None and run_id is not None else 0
        more = f"{max(len(rows) - held, 0)} more row(s) are in its journal {journal.name} beside it, not read here"
        if len(rows) <= held:  # the table holds every row the run wrote: nothing is left to recover
            more = None
    if writer is not None:
        unread = f": {more}" if more else ""
        return (
            f"{path} is still being written by {writer}, whose run has not finished{unread}; read it again when it ends"
        )
    if more is None:
        return None
    return (
        f"{path} is from a run that did not finish ({STOPPED_WORDS}): {more}; recover them with "
        f"{_resume_hint(path, provenance)}"
    )


# Why a run leaves its journal: the files cannot tell a kill from a write that failed (a full disk, a file-size
# limit), which could not record itself.
STOPPED_WORDS = "killed, or stopped by a write that failed"


def _journal_or_none(journal: Path) -> tuple[dict | None, list[dict] | None]:
    """The provenance and rows of a killed run's `journal`, (None, None) where it cannot be read back."""
    try:
        provenance, rows, _ = _read_journal(journal)
    except (HwprofError, OSError):
        return None, None
    return provenance, rows


def _table_never_written(path: Path, journal: Path) -> str:
    """Why the dataset at `path` has no table though its journal is beside it, and how to recover its rows."""
    writer = writer_of(path)
    if writer is not None:
        return f"Dataset {path} does not exist yet: {writer} is writing it; read it again when its run ends."
    provenance, rows = _journal_or_none(journal)
    held = "its rows are" if rows is None else f"its {len(rows)} row(s) are"
    return (
        f"Dataset {path} does not exist: its run did not finish ({STOPPED_WORDS}) before writing it, and {held} in "
        f"{journal.name} beside it; recover them with {_resume_hint(path, provenance)}."
    )


def _resume_hint(path: Path, provenance: dict | None) -> str:
    """How the killed run's journal gets folded into its table: the measure command resumed, or, for
    `hwprof run`, its next run into the same file."""
    argv = list((provenance or {}).get("argv") or [])
    if "command" in (provenance or {}):
        return f"the next `hwprof run --out {path} -- CMD`"
    if len(argv) > 1 and argv[1] == "measure":
        return f"`{shlex.join(['hwprof', *_out_as_read(argv[1:], path)])} --resume`"
    return "the same `hwprof measure` command and --resume"


def _out_as_read(args: list[str], path: Path) -> list[str]:
    """The run's arguments without --resume and with --out naming the dataset as its reader named it: the run's
    own --out is relative to the folder it ran in, and pasted from another folder --resume found no such file and
    started a new measurement there, leaving the journal unrecovered."""
    kept, args = [], [arg for arg in args if arg != "--resume"]
    skip, named = False, False
    for index, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in ("--out", "-o") and index + 1 < len(args):
            kept += ["--out", str(path)]
            skip = named = True
        elif arg.startswith(("--out=", "-o")) and arg != "-o":  # --out=PATH, -oPATH
            kept.append(f"--out={path}")
            named = True
        else:
            kept.append(arg)
    return kept if named else [*kept, "--out", str(path)]  # the default --out, named where it was read


def _identities(frame: pd.DataFrame) -> list[tuple]:
    """What tells one row of a run from another (what was measured, and how), row by row, in a frame whose
    settings are filled in (_with_settings_before_recorded, as a table's read does): a row in both a table and
    its journal is one row, whose settings the table's read filled in where the journal left them empty."""
    columns = [*IDENTITY_COLUMNS, "seq_len", *SETTINGS_BEFORE_RECORDED]
    values = frame[columns].astype(object)
    return list(values.where(values.notna(), None).itertuples(index=False, name=None))


def _check_schema_version(path: Path, document: dict | None) -> None:
    version = (document or {}).get("schema_version", SCHEMA_VERSION)
    if version == SCHEMA_VERSION:
        return
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise HwprofError(
            f"{path} uses dataset schema version {version} but this hwprof knows only version "
            f"{SCHEMA_VERSION}; upgrade hwprof to read it."
        )
    raise HwprofError(
        f"{path} uses dataset schema version {version!r}, which this hwprof (version {SCHEMA_VERSION}) "
        "cannot read; measure it again with this hwprof."
    )


def _check_columns(path: Path, frame: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise HwprofError(
            f"{path} lacks the column(s) {', '.join(missing)}, so it does not look like an hwprof dataset."
        )


def _typed_or_error(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return typed(_with_settings_before_recorded(frame))
    except ValueError as error:
        raise HwprofError(f"In {path}, {error}, so it does not look like an hwprof dataset.") from None


def _with_settings_before_recorded(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows written before a setting had its column (empty there, or in a merge with newer rows) read as they
    were measured: SETTINGS_BEFORE_RECORDED, and layers with warm caches; left empty, one model of an old and
    a new run would read as two, and cold layers would be compared with warm ones unsaid."""
    frame = frame.copy()
    kind = frame["kind"]
    filled = {column: (value, kind.isin(("layer", "network"))) for column, value in SETTINGS_BEFORE_RECORDED.items()}
    filled["cache"] = (CACHE_BEFORE_RECORDED, kind == "layer")  # a network's row has no cache mode
    for column, (value, measured) in filled.items():
        if column not in frame:
            frame[column] = pd.Series(None, index=frame.index, dtype=object)
        empty = measured & frame[column].isna()
        if empty.any():
            frame[column] = frame[column].astype(object).where(~empty, value)
    return frame


@each_call_warns_afresh
def read_dataset(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One checked, typed table from one or more hwprof datasets (Parquet or CSV): a path or a list of them.

    A dataset whose run has not finished (its journal is beside it) is read as its table holds it, with an
    UnfinishedDatasetWarning that says so and how many rows only the journal holds: a caller can catch or
    filter it, and every command that reads datasets shows it as a note (errors.warnings_as_notes).

    The runs' provenance is in attrs["provenance"], as measure returns it: the machine, software and settings
    travel with the numbers."""
    return read_dataset_noting(paths, lambda _, note: warn(note, UnfinishedDatasetWarning))


def read_dataset_noting(
    paths: str | os.PathLike | Iterable[str | os.PathLike], noted: Callable[[Path, str], None]
) -> pd.DataFrame:
    """read_dataset, with each dataset's unfinished_note (path, sentence) given to `noted` as it is read, where
    read_dataset warns it: a caller that says the note again elsewhere (the report's overview) need not read
    the journal twice."""
    paths = as_paths(paths, "dataset")
    if not paths:
        raise HwprofError("No dataset was given; pass at least one .parquet or .csv file.")
    check_each_given_once(paths, "dataset")  # its rows would count twice
    frames, runs = [], []
    for path in paths:
        frame, document = _table_and_document(path, "measure something into it first")
        _check_schema_version(path, document)
        frames.append(_typed_or_error(path, frame))
        note = unfinished_note(path, frames[-1])
        if note is not None:
            noted(path, note)
        runs += _honest_runs(path, document)
    _check_file_models_agree(frames, paths)
    dataset = concat(frames)
    dataset.attrs["provenance"] = Provenance(runs)
    return dataset


class Provenance(list):
    """The runs' provenance as read_dataset puts it in a frame's attrs. pandas deep-copies attrs into every
    slice, group and column it makes of the frame, and a fleet's runs are hundreds of nested records: compare
    and report of 60 boards spent minutes copying them. A copy, copy.deepcopy's too, is a new list of the same
    records: they are read-only, and a reader that adds to one puts a new record in its list's place."""

    def __deepcopy__(self, memo: dict) -> Provenance:
        return Provenance(self)


# How often, and how far apart, a table and a provenance sidecar that do not match are read again while a
# writer replaces the dataset (merge --force writes the sidecar, then the table).
STALE_REREADS = 40
STALE_REREAD_S = 0.05


def _table_and_document(path: Path, when_empty: str) -> tuple[pd.DataFrame, dict | None]:
    """The rows of the dataset at `path`, checked to have the required columns and a row (`when_empty` says
    what to do about none), and their provenance document. A CSV table and its sidecar that do not match are
    read again, at once and for as long as a writer holds the dataset: another process replacing both files
    between the two reads is not a stale sidecar."""
    reread = 0
    while True:
        frame, metadata = _read_table(path)
        _check_columns(path, frame)
        if frame.empty:
            raise HwprofError(f"{path} has no rows; {when_empty}.")
        try:
            return frame, _read_metadata_document(path, frame, metadata)
        except StaleSidecarError:
            if reread == STALE_REREADS or (reread and writer_of(path) is None):
                raise
        reread += 1
        time.sleep(STALE_REREAD_S)


def latency_interval_unbounded(frame: pd.DataFrame) -> pd.Series:
    """Whether each row's latency median has no 95% interval: from one process with fewer than
    MIN_BOUNDED_SAMPLES samples (whatever older datasets hold in its CI columns), or with samples but
    null bounds (combined processes whose typical one had too few). Rows without a sample count are
    not judged: a dataset from elsewhere may simply not say."""
    if "samples" not in frame.columns:
        return pd.Series(False, index=frame.index)
    samples = pd.to_numeric(frame["samples"], errors="coerce").astype(float)
    processes = frame["processes"] if "processes" in frame.columns else pd.Series(1, index=frame.index)
    one_process = pd.to_numeric(processes, errors="coerce").astype(float).fillna(1) <= 1
    no_bounds = frame[["latency_ms_ci_low", "latency_ms_ci_high"]].isna().any(axis=1)
    return samples.notna() & (((samples < MIN_BOUNDED_SAMPLES) & one_process) | no_bounds)


# ---------------------------------------------------------------- writing


def provenance_document(runs: list[dict]) -> dict:
    return {"schema_version": SCHEMA_VERSION, "runs": runs}


def write_table(path: str | os.PathLike, frame: pd.DataFrame, runs: list[dict]) -> None:
    """Write `frame` with its runs' provenance, atomically; Parquet unless path ends in .csv. The table goes
    last, after its provenance sidecar; write_dataset_files replaces it with its raw samples as one."""
    path = Path(path)
    document = json.dumps(provenance_document(runs), sort_keys=True, default=str)
    write_atomically(sidecar_path(path), lambda tmp: tmp.write_text(document + "\n", encoding="utf-8"))
    if is_csv(path):
        write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: document})
        write_atomically(path, lambda tmp: write_parquet(table, tmp))


def write_dataset_files(
    path: Path, frame: pd.DataFrame, runs: list[dict], samples: pd.DataFrame, trace: pd.DataFrame | None = None
) -> Path | None:
    """The table, its provenance and its raw samples, replaced as one (files.replaced_together): an interrupted
    or failed write leaves the earlier three, or none, never a new table beside an old table's samples. A power
    `trace` (merge's, in hwprof.traces's columns) goes with them to the dataset's trace file, whose path
    is returned."""
    trace_path = None if trace is None else _trace_path(path)
    with replaced_together([*([trace_path] if trace_path else []), samples_path(path), sidecar_path(path), path]):
        if trace_path is not None:
            write_trace_frame(trace, trace_path)
        _keep_samples(path, samples)
        write_table(path, frame, runs)
    return trace_path


def _trace_path(dataset: Path) -> Path:
    """Where the power trace of `dataset` is (hwprof.traces, the format's owner, says)."""
    return Path(trace_path_for(dataset))


def _journal_samples(key: str, raw: RawSamples) -> dict:
    """One row's samples as the journal keeps them, with the worker of each where --processes pooled them."""
    entry = {"key": key, "seconds_per_call": raw.seconds_per_call, "loops": raw.loops}
    if raw.process is not None:
        entry["process"] = raw.process
    return entry


def _read_journal(path: Path) -> tuple[dict | None, list[dict], list[tuple[str, RawSamples]]]:
    """(provenance, rows, (key, samples) records) from a journal; a truncated last line (killed
    mid-write) is dropped."""
    provenance, rows, samples = None, [], []
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):  # the last line, cut short when the run was killed
                break
            raise HwprofError(
                f"Journal {path} is damaged at line {number}; remove that line or the file, then resume."
            ) from None
        try:
            if "provenance" in record:
                provenance = record["provenance"]
                if _run_damage(provenance):  # another kind of value where hwprof writes a run's provenance
                    raise ValueError
            elif "samples" in record:
                entry = record["samples"]
                process = entry.get("process")  # journals before the worker column have none
                samples.append(
                    (
                        entry["key"],
                        RawSamples(
                            tuple(entry["seconds_per_call"]),
                            tuple(entry["loops"]),
                            None if process is None else tuple(process),
                        ),
                    )
                )
            else:
                rows.append(dict(record["row"]))
        except (KeyError, TypeError, ValueError):  # valid JSON, but not a record hwprof writes
            raise HwprofError(
                f"Journal {path} is damaged at line {number} (not a provenance, row or samples record); remove "
                "that line or the file, then resume."
            ) from None
    return provenance, rows, samples


def _keep_samples(path: Path, samples: pd.DataFrame) -> None:
    """The raw-samples sidecar of the dataset at `path`: written when there are samples, else none left over
    (a sidecar from an earlier file of that name would describe other rows)."""
    if len(samples):
        write_samples(path, samples)
    else:
        samples_path(path).unlink(missing_ok=True)


def check_dataset_output(path: str | os.PathLike, resume: bool = False) -> Path:
    """The checks DatasetWriter makes of its output, made before any work (measure loads its models first,
    which takes seconds): a writable path, no live writer, and an existing file only to resume, and only a
    dataset."""
    path = check_output(as_path(path, "output"), exists_ok=True, companions=True)
    writer = writer_of(path)
    if writer is not None:
        raise LockedError(f"{path} is being written by {writer}; wait for it to finish or choose another path")
    _check_existing(path, resume)
    return path


def _check_existing(path: Path, continued: bool) -> None:
    """Refuse a file at `path` that is not a dataset, and without `continued` (a resume, or `hwprof run`
    adding to it) any earlier dataset, journal or raw samples there."""
    if path.exists() and not _is_dataset(path):
        why = ", so there is no run in it to continue" if continued else ""
        raise HwprofError(f"{path} is not a hwprof dataset{why}; choose another path, or move it away.")
    if continued:
        return
    for existing in (path, journal_path(path)):
        if existing.exists():
            raise HwprofError(
                f"{existing} already exists; pass {option('resume', True)} to continue that run, or choose another path."
            )
    if samples_path(path).exists():  # left by a dataset removed since: its samples are not ours
        raise HwprofError(
            f"{samples_path(path)} holds the raw samples of an earlier {path.name}, which is gone; move it away or "
            "remove it, or choose another path."
        )


def _is_dataset(path: Path) -> bool:
    """Whether the file at `path` has a dataset's columns, read from its header alone."""
    try:
        if is_csv(path):
            import csv

            with open(path, newline="", encoding="utf-8") as handle:
                columns = next(csv.reader(handle), [])
        else:
            import pyarrow.parquet as pq

            with open(path, "rb") as handle:  # pyarrow cannot take every name open() takes (see write_parquet)
                columns = pq.read_schema(handle).names
    except Exception:  # pyarrow and csv raise many types for what is not their format
        return False
    return set(REQUIRED_COLUMNS) <= set(columns)


class DatasetWriter:
    """Writes measured rows to `path` so that none is ever lost.

    Without `resume` an existing output (or a journal of an interrupted run) is
    refused. With it, rows already on disk and in a journal are kept, available
    from `existing_rows()`, and this run is linked to the last one by
    provenance["resumed_from"]. `append` keeps them as well, for a run that
    adds to the file without continuing an earlier one (`hwprof run`). The raw
    samples given with rows go to the samples sidecar the same way, keyed by
    `hwprof.samples.row_key`.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        provenance: dict,
        resume: bool = False,
        rewrite_interval_s: float = 2.0,
        append: bool = False,
        holder: str = "hwprof measure",
        end_facts: Callable[[], dict] | None = None,
    ):
        self.path = followed(as_path(path, "output"))  # through a link, its target is written
        self.journal_path = journal_path(self.path)
        self.rewrite_interval_s = rewrite_interval_s
        self.end_facts = end_facts  # the machine's facts as the run ends (its CPU's temperature), read by the caller
        check_output(self.path, exists_ok=True, companions=True)  # an existing one is refused below, unless resumed
        self._lock = ExclusiveLock(self.path, holder).acquire()  # held until close(); `holder` names it to others
        try:
            self.provenance = dict(provenance)
            if not self.provenance.get("run_id"):
                raise ValueError(
                    "provenance needs a run_id; build it with hwprof.measuring.provenance.collect_provenance"
                )
            self.run_id = str(self.provenance["run_id"])

            _check_existing(self.path, resume or append)
            if not (resume or append):
                self._base, self._previous_runs, self._base_samples = empty_frame(), [], empty_samples()
            else:
                self._base, self._previous_runs, self._base_samples = self._recover()
            if any(run.get("run_id") == self.run_id for run in self._previous_runs):
                raise ValueError(f"run_id {self.run_id} is already in {self.path}; each run needs a fresh one")
            if self._previous_runs and not append:
                self.provenance["resumed_from"] = self._previous_runs[-1].get("run_id")
            self.provenance["status"] = "running"

        except BaseException:
            self._lock.release()
            raise
        self._new_frame = empty_frame()  # this run's rows as of the last rewrite
        self._pending_rows: list[dict] = []  # this run's rows since then
        self._new_samples: dict[str, RawSamples] = {}  # this run's samples by row_key
        # what earlier runs of this file measured, by row_key (the latest run's): a resumed run reuses those
        # layer measurements for rows it writes without samples, and so their samples
        self._earlier_samples = {key: raw for (_, key), raw in grouped(self._base_samples).items()}
        self.rows_written = 0
        self._rows_journaled = 0  # how many of them the journal holds on disk
        self._append = append
        self._journal = None
        self._last_rewrite = -math.inf
        self._closed = False

    # -- resume

    def _recover(self) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
        """Rows, runs and raw samples already measured: the files on disk plus any journal of a killed run."""
        samples = read_samples(self.path) if self.path.exists() else None
        samples = empty_samples() if samples is None else samples
        if self.path.exists():
            frame = read_table(self.path)
            _check_columns(self.path, frame)
            document = _read_metadata_document(self.path, frame)
            _check_schema_version(self.path, document)
            frame = _typed_or_error(self.path, frame)
            runs = list((document or {}).get("runs", []))
        else:
            frame, runs = empty_frame(), []
        if not self.journal_path.exists():
            for run in runs:
                if run.get("status") == "running":  # killed, and its journal removed by hand
                    run["status"] = "interrupted"
            return frame, runs, samples

        try:
            journal_provenance, journal_rows, journal_samples = _read_journal(self.journal_path)
            recovered = rows_frame([plain_row(row, (journal_provenance or {}).get("run_id")) for row in journal_rows])
        except ValueError as error:
            raise HwprofError(
                f"the journal {self.journal_path} of an interrupted run cannot be read back ({error}); move it "
                f"away to keep the rows already in {self.path.name} and resume without it"
            ) from None
        if journal_rows:
            journal_id = journal_provenance.get("run_id")
            # The table and the journal each hold the run's rows up to their last write, and either may hold more:
            # a journal cut short by a file-size limit lacks rows the table took. The run keeps both, once each.
            held = set(_identities(frame[frame["run_id"].eq(journal_id).fillna(False)]))  # filled when read
            journal_identities = _identities(_with_settings_before_recorded(recovered))
            recovered = recovered[[identity not in held for identity in journal_identities]]
            frame = concat([frame, recovered])
            run_ids = [run.get("run_id") for run in runs]
            rows = int(frame["run_id"].eq(journal_id).fillna(False).sum())
            table_run = runs[run_ids.index(journal_id)] if journal_id in run_ids else {}
            if table_run.get("status") not in (None, "running"):
                # killed between its last table write, which recorded how it ended (complete, its end_time and
                # seconds), and the journal's removal: the table's record stands, not the journal's start
                journal_run = {**table_run, "rows": rows}
            else:
                journal_run = {**journal_provenance, "status": "interrupted", "rows": rows}
            if journal_id in run_ids:
                runs[run_ids.index(journal_id)] = journal_run
            else:
                runs.append(journal_run)
            journal_keys = {key for key, _ in journal_samples}
            samples = samples[samples["run_id"].ne(journal_id).fillna(True) | ~samples["key"].isin(journal_keys)]
            samples = concat_samples([samples, samples_frame((journal_id, k, raw) for k, raw in journal_samples)])
            try:
                write_dataset_files(self.path, frame, runs, samples)
            except OSError as error:  # the files are as they were, and the journal stays for the next try
                raise HwprofError(
                    f"cannot write {self.path}: {error.strerror or error}; the interrupted run's rows stay in "
                    f"{self.journal_path.name} beside it until they can be written: free space or fix the folder, "
                    "then try again"
                ) from None
        self.journal_path.unlink()
        return frame.reset_index(drop=True), runs, samples.reset_index(drop=True)

    @property
    def previous_runs(self) -> list[dict]:
        """The provenance of the runs already in the file (none without resume)."""
        return list(self._previous_runs)

    def existing_rows(self) -> pd.DataFrame:
        """Rows that were on disk before this run (empty unless resuming)."""
        return self._base.copy()

    # -- writing

    def _open_journal(self):
        try:
            journal = open(self.journal_path, "x", encoding="utf-8")
        except FileExistsError:
            raise HwprofError(
                f"{self.journal_path} appeared while this run was writing; is another hwprof run using {self.path}?"
            ) from None
        journal.write(json.dumps({"provenance": self.provenance}, sort_keys=True, default=str) + "\n")
        return journal

    def write(self, rows: list[dict], samples: RawSamples | None = None) -> None:
        """Append rows, measured from `samples` where given; when this returns they are on disk and survive
        a crash."""
        if self._closed:
            raise ValueError(f"DatasetWriter for {self.path} is closed")
        if not rows:
            return
        plain = [plain_row(row, self.run_id) for row in rows]
        new_samples = self._samples_of(plain, samples)
        # In memory first: if Ctrl-C lands in the journal write, close() still writes the rows.
        self._pending_rows.extend(plain)
        self._new_samples.update(new_samples)
        self.rows_written += len(plain)
        try:
            if self._journal is None:
                self._journal = self._open_journal()
            self._journal.write(
                "".join(json.dumps({"samples": _journal_samples(key, raw)}) + "\n" for key, raw in new_samples.items())
            )
            self._journal.write("".join(json.dumps({"row": row}, sort_keys=True) + "\n" for row in plain))
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._rows_journaled = self.rows_written
            if time.monotonic() - self._last_rewrite >= self.rewrite_interval_s:
                self._rewrite()
        except OSError as error:
            raise self._write_error(error, self._table_takes_all()) from None

    def _table_takes_all(self) -> bool:
        """Whether the table, written now, holds every row where the journal could not take them: a file-size
        limit or a quota stops the journal, which only grows, before the table."""
        try:
            self._rewrite()
        except OSError:
            return False
        return True

    def _samples_of(self, rows: list[dict], samples: RawSamples | None) -> dict[str, RawSamples]:
        """The samples to record for `rows`: those given, or for layer rows written without them, the samples
        of the earlier run of this file that measured the same configuration (its config_id names the work)."""
        found = {}
        for row in rows:
            key = row_key(row)
            if key is None or key in self._new_samples or key in found:
                continue
            if samples is not None:
                found[key] = samples
            elif row["kind"] == "layer" and key in self._earlier_samples:
                found[key] = self._earlier_samples[key]
        return found

    def _write_error(self, error: OSError, in_table: bool = False) -> HwprofError:
        """A full disk or a lost mount: say where the rows are (only files that hold them) and how to carry on,
        in one sentence, worded for the holder: `hwprof run` has no --resume, its next append folds the
        journal in. `in_table`: the table was written with every row, where the journal was not."""
        if in_table:
            then = (
                f"free space or fix the folder before the next `hwprof run --out {self.path}`"
                if self._append
                else f"free space or fix the folder, then run the same measurement with {option('resume', True)}"
            )
            return HwprofError(
                f"cannot write {self.journal_path} ({error.strerror or error}); every row measured so far is kept in "
                f"{self.path.name}: {then}"
            )
        journaled = self._rows_journaled if self.journal_path.exists() else 0
        lost = self.rows_written - journaled
        if not journaled:
            kept = f"none of the {lost} row(s) of this run is on disk"
        elif lost:
            kept = f"{journaled} row(s) are kept in {self.journal_path.name} beside it, the last {lost} are not on disk"
        else:
            kept = f"every row measured so far is kept in {self.journal_path.name} beside it"
        if not journaled:
            then = "free space or fix the folder, then measure again"
        elif self._append:
            then = f"free space or fix the folder: the next `hwprof run --out {self.path}` adds them to it"
        else:
            then = f"free space or fix the folder, then run the same measurement with {option('resume', True)}"
        return HwprofError(f"cannot write {self.path} ({error.strerror or error}); {kept}: {then}")

    def _rewrite(self) -> None:
        if self._pending_rows:
            self._new_frame, self._pending_rows = concat([self._new_frame, rows_frame(self._pending_rows)]), []
        self.provenance["rows"] = self.rows_written
        new_samples = samples_frame((self.run_id, key, raw) for key, raw in self._new_samples.items())
        write_dataset_files(
            self.path,
            concat([self._base, self._new_frame]),
            self._previous_runs + [self.provenance],
            concat_samples([self._base_samples, new_samples]),
        )
        self._last_rewrite = time.monotonic()

    def close(self, status: str | None = None) -> None:
        """Write the final table and sidecar, then drop the journal. Safe to call twice.

        `status` defaults from the exception being handled, so a plain close() in a
        `finally` or `except KeyboardInterrupt` records "interrupted" or "failed".
        """
        if status is None:
            status = run_status(sys.exc_info()[1])
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
        if self._closed:
            return
        # A second Ctrl-C (or a SIGTERM after the first) must not stop this half way: the table would miss
        # rows, say "running", and the journal and lock would stay although the run is over.
        with signals_deferred():
            self._finish(status)

    def _finish(self, status: str) -> None:
        """close() itself: the final table, then the journal removed and the lock released, whatever fails."""
        try:
            if self.rows_written:
                self.provenance["status"] = status
                self.provenance.update(end_time=now_text(), **(self.end_facts() if self.end_facts else {}))
                self._rewrite()
            if self._journal is not None:
                self._close_journal()
                self.journal_path.unlink(missing_ok=True)
        except OSError as error:  # the journal stays: --resume recovers from it the rows the table lacks
            self._close_journal()
            raise self._write_error(error) from None
        finally:
            self._closed = True
            self._lock.release()

    def _close_journal(self) -> None:
        """Close the journal, whose last rows may not go to disk after a failed write (its buffer flushes them
        once more); they are in the table, or said lost by the error that stopped the run."""
        if self._journal is None:
            return
        try:
            self._journal.close()
        except OSError:
            pass  # the file is closed all the same
        self._journal = None

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close("complete")
        else:
            self.close("interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed")


# ---------------------------------------------------------------- merging


def _read_shard(path: Path, column_kinds: dict[str, tuple[str, Path]]) -> tuple[pd.DataFrame, dict | None, set[str]]:
    """A shard's typed rows, provenance document and the columns its file holds, after every schema check
    merge makes (typing adds the schema's columns a shard lacks, empty)."""
    frame, document = _table_and_document(path, "leave it out of the merge")
    _check_schema_version(path, document)
    for column in frame.columns:
        kind = value_kind(frame[column])
        if kind is None or column in ALL_COLUMNS:
            continue  # schema columns are checked against the schema by typed()
        first_kind, first_path = column_kinds.setdefault(column, (kind, path))
        if kind != first_kind:
            raise HwprofError(
                f"Column {column} holds {kind_words(first_kind)} in {first_path} but {kind_words(kind)} "
                f"in {path}, so the shards do not share one schema."
            )
    return _typed_or_error(path, frame), document, set(frame.columns)


def without_sample_sidecars(shards: list[Path]) -> list[Path]:
    """The shards less the files kept beside shards also given, which `shards/*` and `shard-*.parquet` match:
    raw samples, provenance and power traces (`pw.trace.parquet` beside `pw.parquet`); raw samples given
    without their dataset are refused."""
    given = {os.path.realpath(shard) for shard in shards}
    traces = {os.path.realpath(_trace_path(shard)) for shard in shards}
    kept = []
    for shard in shards:
        owners = [Path(str(shard).removesuffix(suffix)) for suffix in (SAMPLES_SUFFIX, SIDECAR_SUFFIX)]
        if any(owner != shard and os.path.realpath(owner) in given for owner in owners):
            continue  # beside its dataset, which is given: the dataset brings it
        if os.path.realpath(shard) in traces and not _is_dataset(shard):
            continue  # the trace of a dataset given
        if owners[0] != shard:
            raise HwprofError(_samples_not_dataset(shard))
        kept.append(shard)
    return kept


def _samples_not_dataset(path: Path) -> str:
    dataset = Path(str(path).removesuffix(SAMPLES_SUFFIX))
    return f"{path} holds the raw samples of {dataset.name}, not a dataset; give {dataset} instead."


def check_each_given_once(paths: list[Path], what: str) -> None:
    """Refuse a file given twice: its rows would count twice (merge, report)."""
    for index, path in enumerate(paths):
        for earlier in paths[:index]:
            if same_file(path, earlier):
                raise HwprofError(f"{path} is given twice; pass each {what} once.")


def claim_runs(run_owner: dict[str, Path], run_ids: Iterable[str], path: Path, what: str) -> None:
    """Record `path` as where each of `run_ids` comes from, refusing a run already found in another file
    (a copied or twice-merged dataset), whose rows would otherwise count twice (merge, report)."""
    for run_id in sorted(run_ids):
        if run_id in run_owner:
            raise HwprofError(
                f"Run {run_id} is in both {run_owner[run_id]} and {path}; each run may come from one {what} only "
                f"(was a {what} copied or merged twice?)."
            )
        run_owner[run_id] = path


def _unfinished_shard(path: Path) -> tuple[str, str] | None:
    """(why, what to do) when the shard at `path` cannot be merged yet: its writer still runs, or its run was
    killed and the journal holds rows its table may lack; None when its run ended."""
    writer = writer_of(path)
    if writer is not None:
        return f"{path} is still being written by {writer}", "wait for it to finish"
    if companion_exists(journal_path(path)):
        return (
            f"{path} belongs to a run that did not finish ({journal_path(path).name} is next to it)",
            f"finish that run ({option('resume', True)})",
        )
    return None


def _finished_shards(shards: list[Path], skip_unfinished: bool) -> tuple[list[Path], list[dict]]:
    """(the shards to merge, {"path", "reason"} of each one left out). An unfinished shard is refused, or
    with `skip_unfinished` left out; one that is still being written is never merged."""
    kept, skipped = [], []
    for shard in shards:
        unfinished = _unfinished_shard(shard)
        if unfinished is None:
            kept.append(shard)
        elif skip_unfinished:
            skipped.append({"path": str(shard), "reason": unfinished[0]})
        else:
            raise HwprofError(
                f"{unfinished[0]}; {unfinished[1]} before merging, or pass {option('skip_unfinished', True)} to "
                "merge the shards that finished without it."
            )
    if shards and not kept:
        raise HwprofError(
            f"None of the shards has finished ({'; '.join(entry['reason'] for entry in skipped)}); finish a run "
            f"({option('resume', True)}) before merging."
        )
    return kept, skipped


@each_call_warns_afresh
def merge_datasets(
    shards: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike,
    force: bool = False,
    skip_unfinished: bool = False,
) -> dict:
    """Combine hwprof datasets (a path or a list of them) into `out`, keeping every run's provenance; returns a
    summary. A shard whose run has not finished is refused, or with `skip_unfinished` left out and named in
    the summary's "skipped" and "warnings" (a fleet job merges the boards that finished)."""
    shards, out = without_sample_sidecars(as_paths(shards, "shard")), as_path(out, "output")
    force, skip_unfinished = true_or_false("force", force), true_or_false("skip_unfinished", skip_unfinished)
    if not shards:
        raise HwprofError("No shard was given; pass the datasets to merge.")
    check_each_given_once(shards, "shard")
    check_output(out, inputs=shards, force=force, companions=True)
    _check_trace_output(out, shards, force)
    with ExclusiveLock(out, "hwprof merge"):  # a measure writing `out` would replace the merge at its end
        if not force:  # another merge may have written it while this one waited for the lock
            check_output(out, inputs=shards, companions=True)
        return _merge(shards, out, skip_unfinished)


def _is_model_file_name(model: object) -> bool:
    """Whether a model is a path/to/file.py:factory, named by the path as it was typed (models.spec.model_file)."""
    return isinstance(model, str) and ":" in model and model.rsplit(":", 1)[0].endswith(".py")


def _check_file_models_agree(frames: list[pd.DataFrame], paths: list[Path]) -> None:
    """Network rows of one model file's name, batch size, sequence length and config, read from two datasets
    with other params, are refused: a file model is named by its path as typed, so a.py's net.py:build and
    b.py's, each measured from its own folder, or a file edited between two runs, read as reruns of one
    network, and show and fit took a median that belongs to neither. MACs are not compared: counted from a real
    forward, they differ between reruns of an unchanged file whose work depends on its weights or inputs (an
    early exit, a detector's proposals)."""
    seen: dict[tuple, tuple[int, int, Path]] = {}
    key_columns = ["model", "batch_size", "seq_len", "config"]
    for frame, path in zip(frames, paths):
        networks = frame[frame["kind"].eq("network") & frame["model"].map(_is_model_file_name)]
        figures = networks[[*key_columns, "params", "flops"]].astype(object)
        for *key, params, flops in figures.where(figures.notna(), None).itertuples(index=False, name=None):
            first = seen.setdefault(tuple(key), (params, flops, path))
            if first[2] == path or first[0] is None or params is None or first[0] == params:
                continue
            names = distinguishing_names([first[2], path])
            raise HwprofError(
                f"{key[0]} is one name for two networks, in {names[first[2]]} ({_figures(*first[:2])}) and in "
                f"{names[path]} ({_figures(params, flops)}) at batch {key[1]}: a model file is named by its path as "
                "given, so two files of one name measured from different folders, or a file edited between runs, "
                "are not reruns of one network; measure them with paths that tell them apart (a/net.py:build, "
                "b/net.py:build), or read these datasets apart"
            )


def _figures(params: int | None, flops: int | None) -> str:
    return f"{'-' if params is None else f'{params:,}'} params, {'-' if flops is None else f'{flops:,}'} MACs"


def distinguishing_names(paths: list[Path]) -> dict[Path, str]:
    """Each path by the shortest ending of it (its name, then its folders') that no other path ends in, for a
    sentence naming several files: two boards' folders each holding m.parquet read alike by their names alone."""
    parts = {path: Path(os.path.abspath(path)).parts for path in paths}
    names: dict[Path, str] = {}
    count = 1
    while len(names) < len(parts):
        endings = Counter(own[-count:] for own in parts.values())
        for path, own in parts.items():
            if path not in names and (endings[own[-count:]] == 1 or count >= len(own)):
                names[path] = str(Path(*own[-count:]))
        count += 1
    return names


def _check_trace_output(out: Path, shards: list[Path], force: bool) -> None:
    """The output's power trace (its stem + .trace.parquet), where the shards have traces to carry to it: never a
    shard's own trace (a .csv and a .parquet of one stem share one), and an existing one replaced only with
    `force`."""
    trace = _trace_path(out)
    carried = [_trace_path(shard) for shard in shards if _trace_path(shard).exists()]
    if not carried or not trace.exists():
        return
    for shard_trace in carried:
        if same_file(shard_trace, trace):
            raise HwprofError(
                f"The output {out} would write its power trace over {trace}, the trace of an input; write to a new path."
            )
    if not force:
        raise HwprofError(
            f"{trace}, where the power traces of {out} go, already exists; pass {option('force', True)} to replace "
            "it, or choose another path."
        )


def _shard_trace(shard: Path, run_ids: set[str], warnings: list[str]) -> pd.DataFrame | None:
    """The samples of the power trace beside `shard` (measure or run --trace) that its runs took; None without
    one. A trace written before samples named their run is the shard's own where it has one run."""
    path = _trace_path(shard)
    if not path.exists():
        return None
    frame = read_trace(path)
    unnamed = frame[RUN_COLUMN].isna()
    if unnamed.any() and len(run_ids) == 1:
        frame.loc[unnamed, RUN_COLUMN] = next(iter(run_ids))
    elif unnamed.any():
        warnings.append(
            f"{path} holds {int(unnamed.sum())} power sample(s) that name no run, and {shard} has {len(run_ids)} "
            "runs: they are left out of the merged trace."
        )
    return frame[frame[RUN_COLUMN].isin(run_ids).fillna(False)]


def _merge(shards: list[Path], out: Path, skip_unfinished: bool) -> dict:
    """merge_datasets itself, once the output is checked and locked."""
    shards, skipped = _finished_shards(shards, skip_unfinished)

    frames, runs, samples, traces = [], [], [], []
    warnings = [
        f"{entry['reason']}, so it was left out; merge again with it once its run has finished (resumed)."
        for entry in skipped
    ]
    run_owner: dict[str, Path] = {}
    column_kinds: dict[str, tuple[str, Path]] = {}
    shard_summaries, columns = [], []
    for shard in shards:
        frame, document, held = _read_shard(shard, column_kinds)
        columns.append(held)
        shard_runs = _honest_runs(shard, document)
        if document is None:
            warnings.append(f"{shard} carries no provenance (no Parquet metadata and no {sidecar_path(shard).name}).")
        run_ids = {run.get("run_id") for run in shard_runs} | set(frame["run_id"].dropna())
        run_ids.discard(None)
        claim_runs(run_owner, run_ids, shard, "shard")
        frames.append(frame)
        runs.extend(shard_runs)
        shard_samples = read_samples(shard)
        if shard_samples is None and frame["kind"].ne("command").any():  # a command's row has no samples
            warnings.append(
                f"{shard} has no raw samples ({samples_path(shard).name}); hwprof compare cannot test its rows "
                "for significance."
            )
        elif shard_samples is not None:
            samples.append(shard_samples[shard_samples["run_id"].isin(run_ids)])
        trace = _shard_trace(shard, run_ids, warnings)
        if trace is not None and len(trace):
            traces.append(trace)
        shard_summaries.append(
            {
                "path": str(shard),
                "rows": len(frame),
                "runs": sorted(run_ids),
                "raw_samples": shard_samples is not None,
                "power_samples": 0 if trace is None else len(trace),
            }
        )

    warnings += _missing_columns(shards, columns)
    _check_file_models_agree(frames, shards)
    merged = concat(frames)
    models, mixed = mixed_settings(merged, runs)
    if mixed:  # one warning, whatever the number of shards or settings
        names = distinguishing_names(shards)
        words = mixed_settings_words(models, mixed, lambda run_id: names[run_owner[run_id]])
        warnings.append(
            f"The shards measured {words}, which show takes apart but fit takes as repeats of one measurement, so "
            "its medians mix the two; merge shards measured with one allocator policy and one cache mode."
        )
    trace = pd.concat(traces, ignore_index=True) if traces else None
    try:
        trace_path = write_dataset_files(out, merged, runs, concat_samples(samples), trace)
    except OSError as error:  # a full disk: the output is as it was, or absent
        raise HwprofError(f"cannot write {out}: {error.strerror or error}") from None
    return {
        "out": str(out),
        "rows": len(merged),
        "trace": None if trace_path is None else str(trace_path),
        "shards": shard_summaries,
        "skipped": skipped,
        "runs": _runs_summary(merged, runs),
        "warnings": warnings,
    }


def _missing_columns(shards: list[Path], columns: list[set[str]]) -> list[str]:
    """A warning per shard that lacks columns another shard has (written by an older hwprof, or edited):
    its rows get none in the merged dataset, which a reader should know before comparing them."""
    everything = set().union(*columns)
    warnings = []
    for shard, held in zip(shards, columns):
        missing = sorted(everything - held - {*SETTINGS_BEFORE_RECORDED, "cache"})  # those read as measured
        if missing:
            warnings.append(f"{shard} has no column {', '.join(missing)}: its rows are empty there in the merge.")
    return warnings


UNRECORDED = "unrecorded"  # a run's allocator from before `measure --allocator` existed, as fit lists it
UNREADABLE = "unreadable"  # what provenance writes for a fact it could not read (hwprof.measuring.provenance)
# Settings that move latency without showing in a run's rows, as compare and evaluate name a difference in them:
# each one's words around its value, and what its values are called ("transfer between allocator policies").
RUN_CONDITIONS = {
    "torch": ("torch {}", "torch releases"),
    "allocator": ("allocator policy {}", "allocator policies"),
    "cache": ("cache mode {}", "cache modes"),
    "governor": ("CPU governor {}", "CPU governors"),
    "turbo": ("turbo {}", "turbo settings"),
    "cpu_capability": ("torch CPU capability {}", "CPU kernel sets"),
    "mkldnn_enabled": ("oneDNN {}", "oneDNN settings"),
    "cpu_id": ("CPU {}", "CPUs"),
    "env": ("{}", "environment settings"),
}
CONDITION_FIELDS = ("governor", "turbo", "cpu_capability", "mkldnn_enabled", "cpu_id", "env")  # kept as recorded
CPU_ID_WORDS = {"vendor": "{}", "family": "family {}", "model": "model {}", "stepping": "stepping {}"}


def allocator_label(allocator: dict) -> str | None:
    """A run's allocator in brief: its policy, and where it was not applied or another library served malloc,
    that ("steady (not applied, libjemalloc.so.2)"); None where the run recorded no policy."""
    if not allocator.get("policy"):
        return None
    notes = [*(["not applied"] if allocator.get("applied") is False else []), *filter(None, [allocator.get("library")])]
    return f"{allocator['policy']} ({', '.join(notes)})" if notes else str(allocator["policy"])


def run_section(run: dict, setting: str) -> dict:
    """A run's section `setting` (cache, execution), {} where it has none; a --processes run written before its
    workers' cache mode and execution were copied into it holds them in its workers' runs only (`processes`),
    the last of which applied them."""
    workers = run.get("processes")
    own = run.get(setting)
    if own is None and isinstance(workers, list) and workers and isinstance(workers[-1], dict):
        own = workers[-1].get(setting)
    return own if isinstance(own, dict) else {}


def run_conditions(run: dict) -> dict:
    """What a run recorded of RUN_CONDITIONS, each as text but for "env" (its variables by name): from its
    provenance, or its summary in a predictor (hwprof.fitting.data), whose allocator and cache are text already.
    What the run did not record or could not read is left out: unknown, never a difference. A measure run from
    before the allocator was recorded ran with glibc's as found and reads as ALLOCATOR_BEFORE_RECORDED, so its
    networks' 0.42-0.59x against a steady run of the same models are called a difference."""
    allocator = run.get("allocator")
    cache = run.get("cache") if "cache" in run else run_section(run, "cache") or None
    if "allocator" not in run and isinstance(run.get("method"), dict) and "command" not in run:
        allocator = ALLOCATOR_BEFORE_RECORDED
    if isinstance(cache, dict):  # a run's provenance: the mode its layers were timed in, where it timed layers
        cache = cache.get("mode") if (run.get("plan") or {}).get("layers", True) else None
    found = {
        "torch": run.get("torch"),
        "allocator": allocator_label(allocator) if isinstance(allocator, dict) else allocator,
        "cache": cache,
        "governor": run.get("governor"),
        "turbo": run.get("turbo"),
        "cpu_capability": run.get("cpu_capability"),
    }
    if isinstance(run.get("mkldnn_enabled"), bool):
        found["mkldnn_enabled"] = "on" if run["mkldnn_enabled"] else "off"
    cpu = run.get("cpu_id") if isinstance(run.get("cpu_id"), dict) else {}
    known = [(field, cpu[field]) for field in [*CPU_ID_WORDS, "microcode"] if cpu.get(field) not in (None, UNREADABLE)]
    found["cpu_id"] = " ".join(CPU_ID_WORDS.get(field, "microcode {}").format(value) for field, value in known)
    found = {key: str(value) for key, value in found.items() if value not in (None, "", UNREADABLE, UNRECORDED)}
    if isinstance(run.get("env"), dict):
        found["env"] = {str(name): str(value) for name, value in run["env"].items()}
    return found


RUN_SETTINGS = ("threads", "allocator", "cache")  # recorded per run, not per row: a network row has no cache label


def run_settings(frame: pd.DataFrame, runs: list[dict]) -> dict[str, dict]:
    """Each of RUN_SETTINGS by run id, of those the runs recorded more than one value of (unrecorded is no
    value): a network measured in such runs is shown apart per value, as its figures are not repeats of one
    measurement. The cache mode is its layers' (cold_partial as cold), taken from their rows, which read as warm
    where a run measured before the mode was recorded left it empty; a run without layers has none."""
    layers = frame[frame["kind"].eq("layer") & frame["cache"].notna()] if "cache" in frame else frame.iloc[:0]
    caches = layers.drop_duplicates("run_id").set_index("run_id")["cache"].astype(str)
    values = {
        "threads": {run.get("run_id"): run.get("threads") for run in runs},
        "allocator": {run.get("run_id"): run_conditions(run).get("allocator") for run in runs},
        "cache": {run_id: "cold" if label.startswith("cold") else label for run_id, label in caches.items()},
    }
    known = {column: {k: v for k, v in by_run.items() if v is not None} for column, by_run in values.items()}
    return {column: by_run for column, by_run in known.items() if len(set(by_run.values())) > 1}


def condition_differences(ours: list[dict], theirs: list[dict], keys=RUN_CONDITIONS, within: bool = False) -> list:
    """(key, ours, theirs) for each of `keys` that runs on both sides recorded and recorded differently, each side
    in RUN_CONDITIONS' words, several runs' values joined by "/" ("allocator policy steady/system"); an environment
    variable set on one side (or set otherwise) is one entry of its own. `within`: different only where `theirs`
    holds a value `ours` lacks (a predictor fitted on both transfers to either)."""
    sides = [[run_conditions(run) for run in side] for side in (ours, theirs)]
    found = []
    for key in keys:
        if key == "env":
            names = sorted({name for side in sides for conditions in side for name in conditions.get("env", {})})
            values = {
                name: [
                    {f"{name}={env[name]}" if name in env else f"{name} unset" for env in envs}
                    for envs in ([c["env"] for c in side if "env" in c] for side in sides)
                ]
                for name in names
            }
        else:
            values = {key: [{c[key] for c in side if key in c} for side in sides]}
        for ours_values, theirs_values in values.values():
            differ = not theirs_values <= ours_values if within else ours_values != theirs_values
            if ours_values and theirs_values and differ:
                words = RUN_CONDITIONS[key][0]
                found.append((key, *(words.format("/".join(sorted(v))) for v in (ours_values, theirs_values))))
    return found


SHOWN_MODELS = 3  # models named in a sentence about several


def mixed_settings(frame: pd.DataFrame, runs: list[dict]) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
    """(models, runs by value by setting) where runs that measured one target (one model at one batch size and
    sequence length, on one board, in one dtype, layout and compile mode and at one thread count: what show and
    fit take as repeats of one measurement) recorded different allocator policies or layer cache modes; their
    medians would mix the two. The runs are named by run id, those of every such target together."""
    threads = {run.get("run_id"): run.get("threads") for run in runs}
    allocators = {run.get("run_id"): run_conditions(run).get("allocator") for run in runs}
    rows = _with_settings_before_recorded(frame)
    rows = rows[rows["kind"].isin(("layer", "network")) & rows["run_id"].notna() & rows["model"].notna()]
    rows = rows.assign(
        _threads=rows["run_id"].map(threads),
        allocator=rows["run_id"].map(allocators),
        cache=rows["cache"].map(lambda label: "cold" if str(label).startswith("cold") else label),  # cold_partial
    )
    keys = [c for c in ("device_name", "model", "batch_size", "seq_len", *SETTINGS_BEFORE_RECORDED) if c in rows]
    models, mixed = set(), {}
    for setting in ("allocator", "cache"):
        known = rows.dropna(subset=[setting])
        groups = known.groupby([*keys, "_threads"], dropna=False, sort=False)[setting]
        clashing = known[groups.transform("nunique") > 1]
        if len(clashing):
            models |= set(clashing["model"].astype(str))
            pairs = clashing[[setting, "run_id"]].drop_duplicates().sort_values([setting, "run_id"])
            mixed[setting] = {value: list(ids) for value, ids in pairs.groupby(setting, sort=True)["run_id"]}
    return sorted(models), mixed


def mixed_settings_words(models: list[str], mixed: dict[str, dict[str, list[str]]], named: Callable) -> str:
    """mixed_settings' findings in words: "mlp, net under different allocator policies (steady: a.parquet;
    system: b.parquet)", each run named by `named` (a run id -> its name), each name once per value."""
    listed = ", ".join(models[:SHOWN_MODELS]) + (
        f" and {len(models) - SHOWN_MODELS} more" if len(models) > SHOWN_MODELS else ""
    )
    settings = [
        f"{RUN_CONDITIONS[setting][1]} ("
        + "; ".join(f"{value}: {', '.join(dict.fromkeys(map(named, ids)))}" for value, ids in by_value.items())
        + ")"
        for setting, by_value in mixed.items()
    ]
    return f"{listed} under different {' and '.join(settings)}"


def _runs_summary(frame: pd.DataFrame, runs: list[dict]) -> list[dict]:
    """Rows per (device_name, run), with each run's host and status from its provenance."""
    by_id = {run.get("run_id"): run for run in runs}
    counts = frame.groupby(["device_name", "run_id"], dropna=False, sort=True).size()
    summary = []
    for (device_name, run_id), rows in counts.items():
        run = by_id.get(None if pd.isna(run_id) else run_id, {})
        summary.append(
            {
                "device_name": None if pd.isna(device_name) else device_name,
                "run_id": None if pd.isna(run_id) else run_id,
                "host": run.get("host"),
                "status": run.get("status"),
                "rows": int(rows),
            }
        )
    return summary


def check_trace_owner(trace: str | os.PathLike, dataset: str | os.PathLike | None, resumed: bool) -> None:
    """Refuse, before anything is measured, a trace file that holds samples of runs other than those of
    `dataset` where the run continues it (`resumed`): measure writes its trace over the file, and a .parquet and
    a .csv dataset of one stem share one. A trace from before run_ids were recorded is taken as the continued
    dataset's own; nothing is a new dataset's own."""
    path = Path(trace)
    if not path.exists():
        return
    own_runs: set[str] = set()
    if resumed and dataset is not None and os.path.exists(dataset):
        own_runs = {run["run_id"] for run in read_provenance(dataset) if run.get("run_id")}
    recorded = read_trace(path)[RUN_COLUMN].dropna()
    if not len(recorded):
        if own_runs:
            return
        whose = "an earlier run"
    else:
        others = sorted(set(recorded) - own_runs)
        if not others:
            return
        whose = f"run {', '.join(others[:3])}" if len(others) == 1 else f"runs {', '.join(others[:3])}"
    of = f"the dataset {dataset}" if dataset is not None else "this run"
    if dataset is not None and os.fspath(trace) == trace_path_for(dataset):
        remedy = f"write to another {option('out')} name (its trace goes beside it)"
    else:
        remedy = f"give {option('trace')} another path"
    raise HwprofError(
        f"the power trace {path} holds samples of {whose}, not of {of}, and measuring with "
        f"{option('trace')} would replace it: {remedy}, or remove {path}"
    )


def not_measured(frame, run: dict) -> list[dict]:
    """The (model, batch size[, sequence length]) groups the latest run planned and no run finished, where that
    run did not complete (interrupted, killed): what a resume still has to measure. A group is finished, as
    `measure --resume` judges it, when its network row is written and, unless the run measured no layers, a
    layer row for each of the layer_count layers that row records: the network row can be written before its
    layers are (its --max-time spent first). A network row without layer_count (an older dataset) finishes its
    group alone; a layer sweep, which has no network row, is finished when any of its rows is."""
    plan = run.get("plan") or {}
    if run.get("status") == "complete" or not plan.get("models") or not plan.get("batch_sizes"):
        return []
    seq_lens = plan.get("seq_lens") or [None]
    with_layers = plan.get("layers", True)
    layer_counts: dict[tuple, int | None] = {}  # group -> its network row's layer_count (None: not recorded)
    layers_written: dict[tuple, set[int]] = defaultdict(set)
    for row in frame.itertuples(index=False):
        seq_len = getattr(row, "seq_len", None)
        group = (str(row.model), int(row.batch_size), None if pd.isna(seq_len) else int(seq_len))
        if row.kind == "network":
            count = getattr(row, "layer_count", None)
            layer_counts[group] = None if count is None or pd.isna(count) else int(count)
        elif row.kind == "layer":
            layers_written[group].add(int(row.layer_index))
    finished = {group for group in layers_written if group[0].startswith(SWEEP_PREFIX)}
    finished |= {
        group
        for group, count in layer_counts.items()
        if count is None or not with_layers or len(layers_written[group]) >= count
    }
    return [
        {"model": model, "batch_size": size} | ({} if seq_len is None else {"seq_len": seq_len})
        for model in plan["models"]
        for size in plan["batch_sizes"]
        for seq_len in seq_lens
        if (str(model), int(size), seq_len) not in finished
    ]


SHOWN_MISSING = 10  # groups named in a sentence; show --json lists every one


def not_measured_line(
    missing: list[dict], run: dict, shown: int = SHOWN_MISSING, path: str | os.PathLike | None = None
) -> str:
    """not_measured's groups in one sentence, the first `shown` of them named, with the command that measures them:
    resume_command's where `path` names the dataset as its reader named it, else in words."""
    groups = ", ".join(_group_words(group) for group in missing[:shown])
    more = f" and {len(missing) - shown} more" if len(missing) > shown else ""
    command = resume_command(run, path)
    resume = f"`{command}`" if command else f"the same measure command with --resume{_cache_flag(run)}"
    return f"not measured yet: {groups}{more}; run {resume} to measure them"


def resume_command(run: dict, path: str | os.PathLike | None) -> str | None:
    """The measure command that resumes `run`, cut short, into the dataset at `path` as its reader named it: its own
    arguments with --out made that path (the run's own is relative to the folder it ran in, and pasted in another,
    --resume found no such file and started a new measurement there). None where the run recorded no measure
    command or no path is given."""
    argv = [str(part) for part in run.get("argv") or []]
    if path is None or len(argv) < 2 or argv[1] != "measure":
        return None
    return f"{shlex.join(['hwprof', *_out_as_read(argv[1:], Path(path))])} --resume{_cache_flag(run)}"


def _cache_flag(run: dict) -> str:
    """The --cache option a resume of `run` needs: --cache warm for a run planned warm by the default of its day (no
    --cache given), as measure's check of the plan asks, with layers or without; none for any other."""
    cache = (run.get("plan") or {}).get("cache", CACHE_BEFORE_RECORDED)
    given = any(str(part).startswith("--cache") for part in run.get("argv") or [])
    return f" --cache {cache}" if cache != DEFAULT_CACHE_MODE and not given else ""


def _group_words(group: dict) -> str:
    seq = f", sequence length {group['seq_len']}" if "seq_len" in group else ""
    return f"{group['model']} at batch {group['batch_size']}{seq}"


def contended_measurements(frame: pd.DataFrame) -> int:
    """Measurements (a layer configuration once, however many networks hold it) taken while other processes
    held more than CONTENDED_SHARE of the CPU."""
    if "other_cpu_share" not in frame:
        return 0
    shares = pd.to_numeric(measurements(frame)["other_cpu_share"], errors="coerce")
    return int((shares > CONTENDED_SHARE).sum())


def measurements(frame: pd.DataFrame) -> pd.DataFrame:
    """A dataset's rows as measurements: layer instances share their configuration's, so each once."""
    if not len(frame) or "kind" not in frame or "config_id" not in frame:
        return frame
    layers = frame["kind"] == "layer"
    return pd.concat([frame[layers].drop_duplicates("config_id"), frame[~layers]])


def contention_warning(count: int) -> str:
    """What measure, show and the search demo say of rows timed while others held the CPU."""
    return (
        f"warning: other processes took more than {CONTENDED_SHARE:.0%} of the CPU while {count} measurement(s) "
        "were taken (a layer configuration several rows share counts once; column other_cpu_share); their timings "
        "may be inflated: measure on an idle machine, or re-run those models"
    )
