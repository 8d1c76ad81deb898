"""What a long job reports while it runs, one protocol for measure, fit and search.

The library's default is silent but for warnings, which reach a caller who gave
no progress as HwprofWarnings (`Warnings`); the command line draws a bar on a
terminal and plain lines elsewhere. `Notes` adapts any one-argument function
(print, a list's append, click.echo) for jobs that only have notes to give.
"""

from __future__ import annotations

from collections.abc import Callable

from hwprof.errors import HwprofError, warn


class Progress:
    def note(self, text: str) -> None:
        """A sentence worth showing: a step, a summary line."""

    def warn(self, text: str) -> None:
        """Something the caller should know that stops nothing (power unavailable, datasets measured two ways),
        as the line to show; a progress that shows notes shows it as one."""
        self.note(text)

    def position(self, group: int, groups: int, left_s: float | None) -> None:
        """measure: the (model, batch size) group that `group` then announces is number `group` of the run's
        `groups`; `left_s` estimates the seconds the run has left, its layer sweep included (None until a group
        has been timed). Groups an earlier run finished are passed over without a call."""

    def group(self, model: str, batch_size: int, items: int) -> None:
        """measure: a (model, batch size) with `items` things to time starts."""

    def item_done(self, label: str, latency_ms: float, stable: bool) -> None:
        """measure: one item of the current group finished."""

    def stop(self) -> None:
        """The job is over (or interrupted): release the terminal."""


class Notes(Progress):
    def __init__(self, say: Callable[[str], object]) -> None:
        self.say = say

    def note(self, text: str) -> None:
        self.say(text)


class Warnings(Progress):
    """The progress of a caller who gave none: nothing is shown, and each warning is a HwprofWarning
    (warnings.warn), which a Python caller can catch or filter as any other."""

    def warn(self, text: str) -> None:
        warn(text.removeprefix("warning: "))  # the category says it


def given_progress(progress: object) -> Progress:
    """The progress a public function reports to: the caller's, checked to be one, or `Warnings` for none."""
    if progress is None:
        return Warnings()
    if not isinstance(progress, Progress):
        raise HwprofError(
            f"progress is a hwprof.progress.Progress (its note(text) method receives the run's notes), not "
            f"{type(progress).__name__}: subclass it, wrap a function as hwprof.progress.Notes(print), or leave it out"
        )
    return progress


def duration_text(seconds: float) -> str:
    """58 s, 5 min 02 s, 1 h 05 min."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def bytes_text(size: float) -> str:
    """A byte count in the largest unit that keeps it at 1 or more, so a few KiB do not read as 0.0 MiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} bytes"
