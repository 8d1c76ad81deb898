"""The search results file (search.json): its format version, how it is written and read.

This module is the format's one owner; the study's records come from
`SearchResult.to_dict`, and a verification's outcome rides along under `verified`.
"""

from __future__ import annotations

import json
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
    text = json.dumps(payload, indent=2, sort_keys=True, default=float)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomically(path, text)
    except OSError as error:
        raise HwprofError(f"cannot write the search results to {path}: {error.strerror or error}") from None


def load(path: str | os.PathLike) -> dict:
    """A search.json written by `dump`, checked to be one."""
    return read_json_document(path, FORMAT, FORMAT_VERSION, "search results file", "run the search again")
