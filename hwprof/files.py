"""One atomic write for every file hwprof produces.

Readers see the old file or the new one, never half of one: the content goes
to a uniquely named temporary file beside the target, is fsynced, takes the
mode an ordinary open() would give (or the replaced file's), and is renamed
over the target; the temporary file never outlives a failure.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from hwprof.errors import HwprofError, HwprofWarning, error_line, option, shown, warn


def now_text() -> str:
    """Now, in UTC to the second: the time every file hwprof writes records (a run's start and end, when a
    predictor was made, a report's date)."""
    return utc_text(datetime.now(timezone.utc))


def utc_text(moment: datetime) -> str:
    """A moment as every file hwprof writes records one, in UTC to the second (a naive one is the host's time)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


# The files hwprof keeps beside a dataset, named by suffix: no output may be one of an input's.
PROVENANCE_SUFFIX = ".json"  # the provenance of a CSV dataset (hwprof.dataset)
SAMPLES_SUFFIX = ".samples.parquet"  # the raw samples of every row (hwprof.samples)
JOURNAL_SUFFIX = ".partial.jsonl"  # the rows of a run that has not finished (hwprof.dataset)
LOCK_SUFFIX = ".lock"  # held by the process writing it (ExclusiveLock)
WORKERS_SUFFIX = ".processes"  # the folder of a --processes run's workers until they are combined
COMPANIONS = {
    PROVENANCE_SUFFIX: "provenance",
    SAMPLES_SUFFIX: "raw samples",
    JOURNAL_SUFFIX: "unfinished run's journal",
    LOCK_SUFFIX: "lock",
}


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


def followed(path: str | os.PathLike) -> Path:
    """`path`, or where it is a symbolic link, the file the link leads to: a file written through a link is
    its target (the rename would replace the link with a copy), and a dataset's companions and lock are
    beside its target, where every other writer and reader looks for them."""
    path = Path(path)
    try:
        link = path.is_symlink()
    except OSError as error:  # pathlib answers False for a missing file, but raises "File name too long"
        if error.errno != errno.ENAMETOOLONG:
            raise
        raise name_too_long(path) from None
    return Path(os.path.realpath(path)) if link else path


def check_name_fits(path: str | os.PathLike) -> None:
    """Refuse, in words, a path the system answers "File name too long" (ENAMETOOLONG) for, before the first
    look at it raises that; any other answer is left to that look."""
    try:
        os.lstat(path)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise name_too_long(Path(path)) from None


def companion_exists(path: Path) -> bool:
    """Whether a file kept beside a dataset (`path`: its name with a suffix added) exists: one whose name is
    past the folder's limit, as the companions of a dataset named near it are, cannot."""
    try:
        return path.exists()
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        return False


def name_too_long(path: Path) -> HwprofError:
    """The refusal of a path the system finds too long: which name in it is past its folder's limit, or that
    the whole path is past the system's."""
    name = max(path.parts, key=lambda part: _length(part)[0], default="")
    length, unit = _length(name)
    limit = _name_limit(path.parent)
    if length > limit:
        return HwprofError(
            f"The name {name[:40]}... in {str(path)[:40]}... is {length} {unit} long, past this folder's limit of "
            f"{limit}; give a name of at most {limit} {unit}."
        )
    length, unit = _length(os.path.abspath(path))
    return HwprofError(
        f"The path {str(path)[:40]}... is {length} {unit} long as a full path, past this system's limit; choose a "
        "shorter path."
    )


class WrittenAside(HwprofError):
    """An output written without force under another name, since another process wrote its own name meanwhile:
    refused, yet nothing of it lost."""


def write_atomically(path: str | os.PathLike, write_to: Callable[[Path], object], force: bool = True) -> Path:
    """Call write_to(temporary path), then move the temporary file over `path` (over a link's target).

    Without `force`, a file that appeared at `path` while the content was written (another process's output,
    which check_output did not see when this command started) is never replaced, and what this one wrote is not
    lost either: it goes to a name of its own beside it, which the sentence refusing the write names. OSError
    propagates to the caller, who knows what the file is and words the message."""
    path = followed(path)
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
        if force or not _published_beside(temporary, path):
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent if str(path.parent) else Path("."))
    return path


def _published_beside(temporary: Path, path: Path) -> bool:
    """Give the written `temporary` file the name `path` only where no file has it (a hard link fails on an
    existing name, where a rename would replace it), then drop the temporary name; False where the filesystem
    takes no hard links, and the caller renames as before. Where a file has the name, the content is given
    the first free name `STEM.PID[.N]SUFFIX` beside it, and the write is refused naming both."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        aside = _linked_aside(temporary, path)
        raise WrittenAside(
            f"{path} was written by another process while this one ran, so this one's was written to {aside} "
            f"instead; keep the one you want (pass {option('force', True)} to replace such a file)."
        ) from None
    except OSError:  # no hard links here (EPERM, ENOTSUP, EXDEV on some filesystems)
        return False
    temporary.unlink()
    return True


def _linked_aside(temporary: Path, path: Path) -> Path:
    """The first free name STEM.PID[.N]SUFFIX beside `path`, given to `temporary`'s content by a hard link."""
    for number in range(1000):
        aside = path.with_name(f"{path.stem}.{os.getpid()}{f'.{number}' if number else ''}{path.suffix}")
        try:
            os.link(temporary, aside)
        except FileExistsError:
            continue
        return aside
    raise FileExistsError(errno.EEXIST, "no free name beside it", str(path))


@contextmanager
def replaced_together(paths: Iterable[str | os.PathLike]) -> Iterator[None]:
    """Files that belong together (a dataset, its provenance and raw samples), each replaced atomically in the
    block, replaced as one: SIGINT and SIGTERM wait for the block's end, and an error inside it (a full disk)
    puts every one of them back as it was, or removes it where there was none; never a new table beside the
    old one's samples."""
    import signal

    from hwprof.interrupts import signals_handled

    paths = [followed(path) for path in paths]
    held: list[int] = []
    with signals_handled(lambda signum, frame: held.append(signum)):
        absent = [path for path in paths if not path.exists()]
        backups = {path: _hard_link_copy(path) for path in paths if path not in absent}
        try:
            yield
        except BaseException:
            for path in absent:
                path.unlink(missing_ok=True)
            for path, backup in backups.items():
                if backup is not None:  # without one (no hard links here) the file is left as the error left it
                    os.replace(backup, path)
            raise
        finally:
            for backup in backups.values():
                if backup is not None:
                    backup.unlink(missing_ok=True)
    if held:  # the files are whole: the signal goes to the handler that was in place, which raises or holds it
        signal.raise_signal(held[0])


def _hard_link_copy(path: Path) -> Path | None:
    """A second name for `path` (a hard link, so nothing is copied) in write_atomically's temporary pattern, so
    that a writer killed before removing it leaves a file remove_stale_temporaries knows; None where the
    filesystem takes no hard links."""
    descriptor, name = tempfile.mkstemp(
        dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(descriptor)
    os.unlink(name)
    try:
        os.link(path, name)
    except OSError:
        return None
    return Path(name)


def write_text_atomically(path: str | os.PathLike, text: str, force: bool = True) -> Path:
    return write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"), force)


def _refuse_constant(name: str):
    raise ValueError(name)


def read_json_document(
    path: str | os.PathLike,
    file_format: str,
    version: int,
    what: str,
    remedy: str,
    older_remedy: Callable[[dict], str | None] | None = None,
) -> dict:
    """A JSON file hwprof wrote, checked to be `what` (its "format") at this `version`.

    `remedy` ends the sentences about a missing file or another version: how to get a good one. For a file of an
    older version, `older_remedy` may say better from what the file records (None: `remedy` stands)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise HwprofError(f"{what} {path} does not exist; {remedy}") from None
    except UnicodeDecodeError:
        kind = "a Parquet file (a dataset?)" if first_bytes(path, 4) == b"PAR1" else "not a text file"
        raise HwprofError(f"{path} is {kind}, not a {what}; {remedy}") from None
    except OSError as error:
        raise HwprofError(f"cannot read {what} {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise HwprofError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); is it a {what}?") from None
    except ValueError as error:
        raise HwprofError(f"{path} holds {error}, which hwprof never writes: the {what} is damaged; {remedy}") from None
    if not isinstance(doc, dict) or doc.get("format") != file_format:
        raise HwprofError(f'{path} is not an hwprof {what} (it lacks "format": "{file_format}")')
    found = doc.get("format_version")
    if isinstance(found, bool) or not isinstance(found, int):
        raise HwprofError(f"{path} is a damaged {what}: its format_version, {found!r}, is not a whole number; {remedy}")
    if found > version:  # refitting or rerunning would not help: this hwprof cannot read what a later one wrote
        raise HwprofError(
            f"{path} has {what} format version {found}, newer than the {version} this hwprof reads: upgrade hwprof to "
            f"read it{_writer_words(doc)}: in its source checkout, `git pull && pip install -e .`"
        )
    if found != version:
        better = older_remedy(doc) if older_remedy is not None else None
        raise HwprofError(
            f"{path} has {what} format version {found}, but this hwprof reads version {version}; {better or remedy}"
        )
    return doc


def _writer_words(doc: dict) -> str:
    """The hwprof that wrote a file, in brackets, where the file records it and it is another than this one (hwprof
    is installed from its source, where a later checkout may carry the same version); else nothing."""
    from hwprof import __version__

    wrote = doc.get("hwprof_version")
    return f" (hwprof {wrote} wrote it)" if isinstance(wrote, str) and wrote != __version__ else ""


def write_parquet(table, path: Path) -> None:
    """pq.write_table, through a file hwprof opens where pyarrow cannot take the name: it refuses one it cannot
    encode as UTF-8 (a non-ASCII name under the C locale, which Python holds with surrogates), while open()
    takes any name the system does."""
    import pyarrow.parquet as pq

    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        with open(path, "wb") as handle:
            pq.write_table(table, handle)
        return
    pq.write_table(table, path)


def first_bytes(path: Path, count: int) -> bytes:
    """The start of a file, to tell what it is without reading the rest (a dataset may be large)."""
    with open(path, "rb") as handle:
        return handle.read(count)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file; a name longer than its folder takes names none (the caller that reads or
    writes it says so in its own sentence)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return os.path.realpath(a) == os.path.realpath(b)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return False
        raise


def as_path(value: object, what: str) -> Path:
    """`value` as a Path; anything but a str or os.PathLike is refused in one sentence naming `what` it is."""
    _refuse_frame(value, what)
    if not isinstance(value, (str, os.PathLike)):
        raise HwprofError(f"Give the {what} as a path (str or os.PathLike), not {shown(value)}.")
    _refuse_empty(os.fspath(value), what)
    _refuse_folder_name(os.fspath(value), f"The {what}")
    return Path(value)


def _refuse_empty(text: str | bytes, what: str) -> None:
    """Refuse an empty path (`--out ''`), which Path() reads as the current folder, ".", never typed, and one of
    blanks only (`--out "$OUT "` with the variable unset), which would write a file no listing shows."""
    if not text:
        raise HwprofError(f"The {what} path is empty; give a file name.")
    if not text.strip():
        raise HwprofError(f"The {what} path is only blanks; give a file name.")


def _refuse_folder_name(text: str | bytes, what: str) -> None:
    """Refuse a path that ends in a separator, which names a folder: Path() drops the separator, and the file
    would take the folder's name."""
    separators = tuple(sep for sep in (os.sep, os.altsep) if sep)
    if isinstance(text, str) and text.endswith(separators):
        raise HwprofError(f"{what} {text} ends in a separator, so it is a directory name: give a file name.")


def _refuse_frame(value: object, what: str) -> None:
    """A DataFrame (measure's result) is a dataset in memory, not a file: say how to make it one."""
    if type(value).__name__ == "DataFrame":
        raise HwprofError(
            f"Give the {what} as a path, not a DataFrame: measure(..., out='run.parquet') writes its dataset to a "
            "file; give that path."
        )


def as_paths(value: object, what: str) -> list[Path]:
    """One path, or an iterable of them, as a list of Paths: a single path is a list of one."""
    if isinstance(value, (str, os.PathLike)):
        return [as_path(value, what)]
    if isinstance(value, bytes) or not isinstance(value, Iterable):
        raise HwprofError(f"Give the {what}s as a path (str or os.PathLike) or a list of paths, not {shown(value)}.")
    _refuse_frame(value, what)  # iterated, a frame is its column names, each taken for a path
    return [as_path(item, what) for item in value]


def check_output(
    path: str | os.PathLike,
    inputs: Iterable[str | os.PathLike] = (),
    force: bool = False,
    exists_ok: bool = False,
    companions: bool = False,
) -> Path:
    """The one output policy, checked before any work: an output is a file in a folder that exists and can be
    written, never one of the inputs, and an existing file is replaced only with `force` (or kept and
    continued, where the caller says `exists_ok`). `companions`: a dataset, whose raw samples, provenance and
    journal are written beside it under longer names."""
    text = os.fspath(path)
    _refuse_empty(text, "output")
    _refuse_folder_name(text, "Output")
    _check_path_length(text, COMPANION_ADDED if companions else TEMPORARY_ADDED)
    path = Path(path)
    _check_name_length(path, COMPANION_ADDED if companions else TEMPORARY_ADDED)  # before any look at the name
    target = followed(path)  # a link is written through: its target's folder must exist
    if path.is_dir():
        raise HwprofError(f"Output {path} is a directory; give a file name such as {path / 'out'}.")
    inputs = list(inputs)
    for source in inputs:
        if same_file(source, path):
            raise HwprofError(f"The output {path} is also an input; write to a new path.")
    for suffix, what in COMPANIONS.items():  # beside a dataset, input or not
        if not text.endswith(suffix):
            continue
        owner = Path(text.removesuffix(suffix))
        if any(same_file(source, owner) for source in inputs):
            raise HwprofError(f"The output {path} is the {what} file of the input {owner}; write to a new path.")
        if owner.is_file():
            raise HwprofError(f"{path} is the {what} file of the dataset {owner}; write to a new path.")
    if path.exists() and not (force or exists_ok):
        raise HwprofError(f"{path} already exists; pass {option('force', True)} to replace it, or choose another path.")
    directory = target.parent
    if not directory.exists():
        raise HwprofError(f"Output directory {directory} does not exist; create it or choose another path.")
    if not directory.is_dir():
        raise HwprofError(f"Output directory {directory} is not a directory; choose another path.")
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        # a folder that exists but takes no new file (/proc, /sys) answers "No such file or directory"
        reason = "it takes no new files" if error.errno == errno.ENOENT else error.strerror or error
        raise HwprofError(f"Output directory {directory} is not writable ({reason}); choose another path.") from None
    return path


# What write_atomically's temporary name adds to a file's name (".", 8 random characters, ".tmp" around it),
# and what the longest file written beside a dataset adds: a companion's suffix, then its temporary name.
TEMPORARY_ADDED = len(".") + len(".") + 8 + len(".tmp")
COMPANION_ADDED = max(len(suffix) for suffix in COMPANIONS) + TEMPORARY_ADDED


def _check_name_length(path: Path, added: int) -> None:
    """Refuse a name too long for the files written for it, before any work: the filesystem would refuse
    them only at the end of a run (or at its first raw samples), and a resume would fail the same way."""
    limit = _name_limit(path.parent)
    length, unit = _length(path.name)
    if length + added > limit:
        raise HwprofError(
            f"The output name {path.name[:40]}... is {length} {unit} long, and the files hwprof writes for it "
            f"add up to {added} more, past this folder's limit of {limit}; give a name of at most "
            f"{limit - added} {unit}."
        )


def _name_limit(directory: Path) -> int:
    """The longest name `directory` takes, as the system counts it (see _length)."""
    try:
        return os.pathconf(directory if str(directory) else ".", "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf (255 UTF-16 characters a name), a
        return 255  # folder that does not exist (said next), or a system without the query


def _check_path_length(text: str, added: int) -> None:
    """Refuse a path too long for the system as a whole (PATH_MAX), before any work and before any look at
    the path, which the system would answer with an error of its own ("File name too long")."""
    if hasattr(os, "pathconf"):
        try:
            limit = os.pathconf("/", "PC_PATH_MAX")
        except (OSError, ValueError):  # a system without the query
            limit = 4096
    else:  # Windows: MAX_PATH, the closing NUL included, unless long paths are enabled
        limit = 32767 if _windows_long_paths() else 260
    length, unit = _length(os.path.abspath(text))
    if length + added >= limit:
        raise HwprofError(
            f"The output path {text[:40]}... is {length} {unit} long as a full path, and the files hwprof writes "
            f"for it add up to {added} more, past this system's limit of {limit}; choose a shorter path."
        )


def _length(text: str) -> tuple[int, str]:
    """`text`'s length as the system's limits count it: bytes where pathconf gives the limits, UTF-16
    characters on Windows, which has no pathconf."""
    if hasattr(os, "pathconf"):
        return len(os.fsencode(text)), "bytes"
    return len(text.encode("utf-16-le", "surrogatepass")) // 2, "characters"


def _windows_long_paths() -> bool:
    """Whether Windows takes paths past MAX_PATH: Python is built long-path aware, so it does once the system
    has long paths enabled (the LongPathsEnabled setting)."""
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            return winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1
    except (ImportError, OSError):
        return False


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed writer of `path` left beside it (write_atomically's
    `.NAME.XXXXXXXX.tmp` and `.NAME<companion suffix>.XXXXXXXX.tmp`, nothing else); the ones removed.
    Call it only while holding the path's ExclusiveLock, so that no live writer's file is taken."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    suffixes = "|".join(re.escape(suffix) for suffix in COMPANIONS)
    pattern = re.compile(rf"\.{re.escape(path.name)}(?:{suffixes})?\.[a-z0-9_]{{8}}\.tmp")
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if pattern.fullmatch(name):
            try:
                (directory / name).unlink()
            except OSError:
                continue
            removed.append(directory / name)
    return removed


class LockedError(HwprofError):
    """The file is being written by another process now (it holds the file's ExclusiveLock): a refusal a
    caller may wait out or write beside, unlike a write that failed."""


def open_lock_file(path: Path, flags: int):
    """`path` opened as a text file with os.open's `flags`, refused in one sentence unless it is a plain file of its
    own: a symbolic link, a hard link or a device planted at a dataset's lock would have the lock's writer truncate
    and overwrite the file it leads to (O_NOFOLLOW; O_NONBLOCK, so that a FIFO never blocks the open)."""
    if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):  # Windows: os.open would follow the link
        raise _not_written_through(path, "a symbolic link")
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # not on Windows
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as error:
        kinds = {errno.ELOOP: "a symbolic link", errno.EISDIR: "a directory"}
        if error.errno not in kinds:
            raise
        raise _not_written_through(path, kinds[error.errno]) from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink > 1:
        os.close(descriptor)
        kind = "a hard link to another file" if stat.S_ISREG(status.st_mode) else "not a regular file"
        raise HwprofError(
            f"The lock file {path} is {kind}, which hwprof never writes; remove it or choose another path."
        )
    return os.fdopen(descriptor, "r+" if flags & os.O_RDWR else "r", encoding="utf-8", errors="replace")


def _not_written_through(path: Path, kind: str) -> HwprofError:
    """The refusal of a lock file that is a link or a folder, whether os.open or a look before it found it."""
    return HwprofError(
        f"The lock file {path} is {kind}, which hwprof never writes through; remove it or choose another path."
    )


# Windows' locks are mandatory: a locked byte cannot be read by another process, so the byte locked there lies far
# past the holder's name, which a refused writer reads.
_WINDOWS_LOCKED_BYTE = 1 << 30


def _flock():
    """The fcntl module where the system has flock (everywhere but Windows), else None."""
    try:
        import fcntl
    except ImportError:
        return None
    return fcntl


def try_lock(handle, shared: bool = False) -> None:
    """Lock the open file `handle` at once, or raise BlockingIOError where another process holds the lock, and
    another OSError where the file system (or the system) has no locks. flock where the system has it; on
    Windows msvcrt.locking, which takes no shared lock: `shared` is an exclusive one there."""
    fcntl = _flock()
    if fcntl is not None:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        return
    try:
        import msvcrt
    except ImportError:
        raise OSError(errno.ENOTSUP, "this system has neither flock nor msvcrt.locking") from None
    try:
        _windows_locking(handle, msvcrt.LK_NBLCK)
    except PermissionError as error:  # EACCES: another process holds the byte
        raise BlockingIOError(errno.EWOULDBLOCK, "the lock is held by another process") from error


def unlock(handle) -> None:
    """Give back the lock try_lock took on `handle`."""
    fcntl = _flock()
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        import msvcrt

        _windows_locking(handle, msvcrt.LK_UNLCK)


def _windows_locking(handle, mode: int) -> None:
    """msvcrt.locking of the lock's byte in `mode`; it locks from the file's position, put back at the start."""
    import msvcrt

    handle.seek(_WINDOWS_LOCKED_BYTE)
    try:
        msvcrt.locking(handle.fileno(), mode, 1)
    finally:
        handle.seek(0)


# How long a writer tries again before it is refused: a reader's probe (dataset.writer_of) holds the lock for
# microseconds, and must never make a writer refuse.
LOCK_TRIES = 25
LOCK_RETRY_S = 0.02


def _lock_past_probes(handle) -> None:
    """try_lock, tried again for a moment (LOCK_TRIES x LOCK_RETRY_S) while it is refused: a reader probing who
    writes a dataset takes its lock for an instant, and a writer that met one would be refused naming the
    holder written in the file, a process long gone."""
    for _ in range(LOCK_TRIES - 1):
        try:
            try_lock(handle)
            return
        except BlockingIOError:
            time.sleep(LOCK_RETRY_S)
    try_lock(handle)


# How long a refused process waits for a holder that has locked its lock file but not yet written its name there.
HOLDER_NAME_WAIT_S = 0.2
HOLDER_NAME_TRIES = 10


UNNAMED_HOLDER = "another process"  # a lock's holder that has not written its name (see holder_of)


def holder_of(handle) -> str:
    """The name a lock's holder wrote in the lock file open as `handle` ("hwprof merge (pid 12)"): a holder takes
    the lock on an empty file and writes its name a moment later, so an empty file is read again for a moment
    before the holder is called UNNAMED_HOLDER."""
    for _ in range(HOLDER_NAME_TRIES):
        handle.seek(0)
        text = handle.read().strip()
        if text:
            return text
        time.sleep(HOLDER_NAME_WAIT_S / HOLDER_NAME_TRIES)
    return UNNAMED_HOLDER


class UnlockedWriteWarning(HwprofWarning):
    """A file is written without its lock: its file system has none (flock unsupported), or the system none that
    hwprof uses (neither flock nor msvcrt.locking), so a second writer of the same file would not be refused."""


class ExclusiveLock:
    """A lock on `<path>.lock` (see try_lock) held for the life of a writer, so that a second writer of the same
    file is refused at its start instead of replacing the first one's rows at its end.

    Where the file system has no locks (a network or FUSE folder answering ENOTSUP or ENOLCK), the file is
    written unlocked, with a warning, rather than refused: `hwprof run` appends its row after the command ran, so
    a refusal would lose a measurement already taken, while the risk of writing unlocked, two processes writing
    one file at once, is the user's to avoid once told. No lock file is left behind there, and another writer's
    temporaries are not cleared, since no lock says that none is alive."""

    def __init__(self, path: str | os.PathLike, holder: str) -> None:
        self.target = followed(path)  # one lock for a file and every link to it
        self.path = Path(f"{self.target}{LOCK_SUFFIX}")
        self.holder = holder
        self._handle = None

    def acquire(self) -> ExclusiveLock:
        while True:
            created = not os.path.lexists(self.path)
            handle = open_lock_file(self.path, os.O_RDWR | os.O_CREAT)
            try:
                _lock_past_probes(handle)
            except BlockingIOError:  # EWOULDBLOCK: another process holds it
                other = holder_of(handle)
                handle.close()
                raise LockedError(
                    f"{self.target} is being written by {other}; wait for it to finish or choose another path"
                ) from None
            except OSError as error:  # ENOTSUP, ENOLCK: the file system (or system) has no locks
                handle.close()
                self._unlocked(error, created)
                return self
            try:  # the lock file may have been removed by the holder we waited on: lock the one that is there
                if os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            handle.close()
        try:
            handle.seek(0)
            handle.truncate(0)
            handle.write(f"{self.holder} (pid {os.getpid()})\n")
            handle.flush()
        except OSError as error:  # a full disk takes the empty lock file, not its holder's name
            self._remove()
            try:
                handle.close()
            except OSError:
                pass  # its name could not be flushed this time either; the file is closed all the same
            raise HwprofError(
                f"Output directory {self.path.parent} is not writable ({error.strerror or error}); choose another path."
            ) from None
        self._handle = handle
        remove_stale_temporaries(self.target)  # no writer of the target is left to finish them: we hold its lock
        return self

    def _unlocked(self, error: OSError, created: bool) -> None:
        """Go on without a lock where the file system has none, saying so; a lock file this call made is
        removed, as no process can hold it."""
        if created:
            self._remove()
        warn(
            f"{self.target} is written without a lock: its file system has no file locks ({error_line(error)}), "
            "so a second process writing it at the same time would not be refused; give each run its own file",
            UnlockedWriteWarning,
        )

    def release(self) -> None:
        """Give the lock back; a lock file that cannot be removed (its folder turned read-only) is left, which
        is harmless: the next writer locks it anew, and the error that ended this one is what matters.

        With flock the file is removed while locked, so that no writer locks a file about to go; Windows removes
        no open file, so there it is unlocked and closed first (a writer that opened it since keeps it there)."""
        if self._handle is None:
            return
        if _flock() is not None:
            self._remove()
            self._handle.close()
        else:
            try:
                unlock(self._handle)
            except OSError:
                pass  # closing gives it back as well, only later
            self._handle.close()
            self._remove()
        self._handle = None

    def _remove(self) -> None:
        """Remove the lock file, where its folder lets us (see release)."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass

    def __enter__(self) -> ExclusiveLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
