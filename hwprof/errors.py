"""One exception type for mistakes a user can fix, worded for whoever called.

A message names a setting through `option(name)` or `option(name, value)`: from
Python the error reads `max_item_s=0`, from the command line `--max-time 0`,
so the library never speaks of flags its caller did not type (notes and
warnings likewise, through worded()). The CLI prints
`cli_message()` as one sentence and exits non-zero; anything else is a bug in
hwprof and is reported as one. What stops nothing but a caller should know is
a HwprofWarning, which the CLI shows as a `note:` line (warnings_as_notes).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import numbers
import re
import sys
import warnings
from collections.abc import Callable, Iterator

_MARKER = re.compile(r"\u27e8([a-z_]+)(?:=([^\u27e9]*))?\u27e9")

# Python parameter -> command-line flag, where the flag is not simply --name-with-dashes.
FLAGS = {
    "max_item_s": "--max-time",
    "batch_sizes": "--batch-size",
    "layers": "--no-layers",
    "cv": "--no-cv",
    "align_runs": "--no-align-runs",
    "targets": "--target",
    "inputs": "--input",
    "seq_lens": "--seq-len",
}
# Flags that switch something off: `layers=False` is `--no-layers`, and takes no value.
NEGATED = {"layers", "cv", "align_runs"}


def option(name: str, value: object = None) -> str:
    """A setting inside an error message, rendered for Python or for the command line."""
    return f"\u27e8{name}\u27e9" if value is None else f"\u27e8{name}={value}\u27e9"


def _as_python(match: re.Match) -> str:
    name, value = match.group(1), match.group(2)
    return name if value is None else f"{name}={value}"


def _as_flag(match: re.Match) -> str:
    name, value = match.group(1), match.group(2)
    flag = FLAGS.get(name, "--" + name.replace("_", "-"))
    if value is None or name in NEGATED or value == "True":
        return flag
    return f"{flag} {value}"


def error_text(error: BaseException) -> str:
    """The first line of an exception's message, or its type where it has none: the part of a foreign
    error (pyarrow, torch, a user's factory) a one-sentence message can quote."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# what torch's allocators say when an allocation fails: CPU ("DefaultCPUAllocator: can't allocate memory: you tried
# to allocate N bytes"), CUDA and MPS ("CUDA out of memory. Tried to allocate 2.00 GiB")
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|out of memory", re.IGNORECASE)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` is an allocation that failed: MemoryError, torch.OutOfMemoryError, or the RuntimeError a
    CPU allocator raises."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or (isinstance(error, RuntimeError) and bool(_OUT_OF_MEMORY.search(str(error))))
    )


def error_line(error: BaseException) -> str:
    """An exception's type and the first line of its message, "RuntimeError: out of memory"."""
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def whole_number(value: object) -> bool:
    """An int, numpy's included, and not a bool (True is an int to Python, not a count to a user)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_switch(value: object) -> bool:
    """True or False, numpy's included (np.bool_ from an array or a comparison), as whole_number takes numpy ints."""
    kind = type(value)
    return isinstance(value, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"))


def true_or_false(name: str, value: object) -> bool:
    """A switch given from Python as True or False, as a Python bool: "no" is true to Python, so anything else is
    refused."""
    if not is_switch(value):
        raise HwprofError(f"{option(name, shown(value))}: give True or False")
    return bool(value)


def shown(value: object) -> str:
    """A value as a user typed it: numpy scalars as plain Python numbers (0, not np.int64(0))."""
    item = getattr(value, "item", None)
    return repr(item() if callable(item) and getattr(value, "ndim", None) == 0 else value)


def given_percent(fraction: float) -> str:
    """A level or threshold a user gave, as a percentage that keeps its digits: 0.995 is 99.5%, 0.005 is 0.5%
    (`:.0%` printed them 100% and 0%)."""
    return f"{100 * fraction:.4g}%"


class HwprofError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""

    exit_code = 1  # the status the command exits with

    def __str__(self) -> str:
        return _MARKER.sub(_as_python, super().__str__())

    def cli_message(self) -> str:
        """The message with every setting named by its command-line flag."""
        return _MARKER.sub(_as_flag, super().__str__())


class HwprofWarning(UserWarning):
    """Something a caller should know that stops nothing; filter hwprof's own warnings by this class."""


# (category, text) of each warning shown in this process (in this command, within warnings_as_notes)
_shown: set[tuple[type, str]] = set()
# those shown in this call of a function each_call_warns_afresh wraps (None outside one), per thread and task
_shown_in_call: contextvars.ContextVar[set[tuple[type, str]] | None] = contextvars.ContextVar(
    "hwprof_shown_in_call", default=None
)


def warn(text: str, category: type[HwprofWarning] = HwprofWarning) -> None:
    """warnings.warn, once per text in the process, pointing at the caller's line (the first outside hwprof), not
    at hwprof's own. Python's own once-per-line registry is cleared whenever anything changes the warning filters
    (pandas does, inside every predict), so it let a loop print one warning at every call. A caller's filters
    still see the first: one they turned into an error is raised again the next time."""
    key = (category, text)
    in_call = _shown_in_call.get()
    shown = _shown if in_call is None else in_call
    if key in shown:
        return
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "hwprof":
        frame, level = frame.f_back, level + 1
    warnings.warn(text, category, stacklevel=level)
    shown.add(key)


def each_call_warns_afresh(function: Callable) -> Callable:
    """`function` (measure, read_dataset, merge, fit, evaluate: calls about one run or dataset) says each of its
    warnings once per call, as a command does: a notebook measuring twice is told twice that power is
    unavailable. Predicting keeps the process's once, since a design loop calls it thousands of times. Applied
    where the function is defined, so it pickles by its name (a process pool maps hwprof.read_dataset)."""

    @functools.wraps(function)
    def each_call(*args, **kwargs):
        if _shown_in_call.get() is not None or _command_line:  # within another such call, or a command
            return function(*args, **kwargs)
        token = _shown_in_call.set(set())
        try:
            return function(*args, **kwargs)
        finally:
            _shown_in_call.reset(token)

    return each_call


def forget_shown_warnings() -> None:
    """Show each warning again once: for tests, which each expect the warnings of what they run."""
    _shown.clear()


_command_line = False  # within warnings_as_notes: texts name settings by their flags (worded)


def worded(text: str) -> str:
    """A note or warning that names settings through option(), worded for whoever called: by flag on the command
    line (within warnings_as_notes), as `name=value` from Python."""
    return _MARKER.sub(_as_flag if _command_line else _as_python, text)


class UnfinishedDatasetWarning(HwprofWarning):
    """A dataset was read while its run had not finished: the journal beside it holds rows its table lacks."""


@contextlib.contextmanager
def warnings_as_notes(echo: Callable[[str], None]) -> Iterator[None]:
    """Within the block, each HwprofWarning goes to `echo` as one `note: ...` line, as the CLI says its notes,
    not as Python's `file:line: Class: message` with a source line; other warnings show as Python shows them."""
    global _command_line, _shown
    outer, outer_shown = _command_line, _shown
    _shown = set()  # each command says each of its notes once, as a process does
    with warnings.catch_warnings():
        warnings.simplefilter("always", HwprofWarning)  # not once per line: warn shows each text once
        shown_by_python = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, HwprofWarning):
                echo(f"note: {message}")
            else:
                shown_by_python(message, category, filename, lineno, file, line)

        warnings.showwarning = show  # catch_warnings puts Python's back
        _command_line = True
        try:
            yield
        finally:
            _command_line, _shown = outer, outer_shown
