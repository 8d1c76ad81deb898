"""The search results file (search.json): its format version, how it is written and read.

This module is the format's one owner; the study's records come from
`SearchResult.to_dict`, and a verification's outcome rides along under `verified`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path

import hwprof
from hwprof.errors import HwprofError
from hwprof.files import now_text, read_json_document, write_text_atomically
from hwprof.search.study import SearchResult

FORMAT = "hwprof-search"
FORMAT_VERSION = 1


def dump(
    result: SearchResult,
    path: str | os.PathLike,
    verified: dict[int, dict] | None = None,
    *,
    predictor=None,
    space: str | os.PathLike | None = None,
    started: str | None = None,
    force: bool = True,
) -> Path:
    """Write the study's outcome atomically (ordinary permissions, never half a file), with what it came from,
    as datasets and predictor files say theirs: which predictor file (`predictor`, a Predictor) and space file
    (`space`, None for one made in memory) it was searched with, by which hwprof, and when: `started`, the
    study's first trial's start (a resumed study began before this command), `command_started` this command's
    start as files.now_text() gives it (`started`), and finished is now. The budgets held only for that
    predictor; the seed and the space's definition ride in the study's records. Without `force`, a file another
    process wrote at `path` meanwhile is not replaced (files.write_atomically)."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **result.to_dict(),
        "verified": {str(number): check for number, check in (verified or {}).items()},
        "hwprof_version": hwprof.__version__,
        "started": result.study_started or started,  # the study's, over every resume
        "command_started": started,
        "finished": now_text(),
        "predictor": None if predictor is None else _predictor_origin(predictor),
        "space_path": None if space is None else os.fspath(space),  # as given, as fit names its sources
    }
    text = json.dumps(_standard_json(payload), indent=2, sort_keys=True, allow_nan=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomically(path, text, force)
    except OSError as error:
        raise HwprofError(f"cannot write the search results to {path}: {error.strerror or error}") from None


def _predictor_origin(predictor) -> dict:
    """The predictor's file (None for one made in memory), when it was fitted and in which format, the file's
    sha256 (a predictor refitted under the same name is told apart), and the conditions its costs are for (the
    board, threads, dtypes): a search's figures hold for those alone."""
    from hwprof.models.spec import source_digest
    from hwprof.predictor.predictor import IN_MEMORY

    doc = getattr(predictor, "doc", None) or {}  # a search may hold any object with predict(): then none is known
    source = getattr(predictor, "source", IN_MEMORY)
    origin = {"path": None, "sha256": None, "created": doc.get("created"), "format_version": doc.get("format_version")}
    conditions = getattr(predictor, "conditions", None)
    origin["conditions"] = conditions if isinstance(conditions, dict) else None
    if source != IN_MEMORY:
        origin["path"] = os.fspath(source)  # as given: a published file should not carry the home folder
        try:
            origin["sha256"] = source_digest(source)
        except OSError:  # moved or removed since it was loaded: its path and created still say which it was
            pass
    return origin


def _standard_json(value):
    """`value` with numpy numbers made plain and every infinite or NaN number made None: standard JSON has
    no Infinity or NaN, and other readers (jq, JavaScript) refuse a file with them."""
    if isinstance(value, dict):
        return {key: _standard_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_standard_json(item) for item in value]
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def load(path: str | os.PathLike) -> dict:
    """A search.json written by `dump`, checked to be one."""
    return read_json_document(path, FORMAT, FORMAT_VERSION, "search results file", "run the search again")
