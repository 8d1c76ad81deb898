"""The search results file (search.json): its format version, how it is written and read.

This module is the format's one owner; the study's records come from
`SearchResult.to_dict`, and a verification's outcome rides along under `verified`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hwprof.errors import HwprofError
from hwprof.files import write_text_atomically
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
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise HwprofError(f"search results {path} do not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HwprofError(f"cannot read the search results {path}: {error}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise HwprofError(f'{path} is not an hwprof search results file (it lacks "format": "{FORMAT}")')
    if doc.get("format_version") != FORMAT_VERSION:
        raise HwprofError(
            f"{path} has search results format version {doc.get('format_version')!r}; "
            f"this hwprof reads version {FORMAT_VERSION}"
        )
    return doc
