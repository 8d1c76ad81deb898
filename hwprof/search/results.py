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

from hwprof.errors import HwprofError
from hwprof.files import read_json_document, write_text_atomically
from hwprof.search.study import SearchResult

FORMAT = "hwprof-search"
FORMAT_VERSION = 1


def dump(result: SearchResult, path: str | os.PathLike, verified: dict[int, dict] | None = None) -> Path:
    """Write the study's outcome atomically (ordinary permissions, never half a file)."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **result.to_dict(),
        "verified": {str(number): check for number, check in (verified or {}).items()},
    }
    text = json.dumps(_standard_json(payload), indent=2, sort_keys=True, allow_nan=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomically(path, text)
    except OSError as error:
        raise HwprofError(f"cannot write the search results to {path}: {error.strerror or error}") from None


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
