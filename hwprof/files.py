"""One atomic write for every file hwprof produces.

Readers see the old file or the new one, never half of one: the content goes
to a uniquely named temporary file beside the target, is fsynced, takes the
mode an ordinary open() would give (or the replaced file's), and is renamed
over the target; the temporary file never outlives a failure.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hwprof.errors import HwprofError


def ordinary_mode(path: Path) -> int:
    """The replaced file's mode, or what a plain open() would give (mkstemp's is owner-only)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable, where the filesystem allows it."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some filesystems cannot sync a directory; the replace is still atomic
    finally:
        os.close(descriptor)


def write_atomically(path: str | os.PathLike, write_to: Callable[[Path], object]) -> Path:
    """Call write_to(temporary path), then move the temporary file over `path`.

    OSError propagates to the caller, who knows what the file is and words the message."""
    path = Path(path)
    descriptor, name = tempfile.mkstemp(
        dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(descriptor)
    temporary = Path(name)
    try:
        os.chmod(temporary, ordinary_mode(path))
        write_to(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent if str(path.parent) else Path("."))
    return path


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    return write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def read_json_document(path: str | os.PathLike, file_format: str, version: int, what: str, remedy: str) -> dict:
    """A JSON file hwprof wrote, checked to be `what` (its "format") at this `version`.

    `remedy` ends the sentences about a missing file or another version: how to get a good one."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise HwprofError(f"{what} {path} does not exist; {remedy}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HwprofError(f"cannot read {what} {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise HwprofError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); is it {what}?") from None
    if not isinstance(doc, dict) or doc.get("format") != file_format:
        raise HwprofError(f'{path} is not an hwprof {what} (it lacks "format": "{file_format}")')
    if doc.get("format_version") != version:
        raise HwprofError(
            f"{path} has {what} format version {doc.get('format_version')!r}, but this hwprof reads "
            f"version {version}; {remedy}"
        )
    return doc
