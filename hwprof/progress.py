"""What a long job reports while it runs, one protocol for measure, fit and search.

The library's default is silent; the command line draws a bar on a terminal and
plain lines elsewhere. `Notes` adapts any one-argument function (print, a list's
append, click.echo) for jobs that only have notes to give.
"""

from __future__ import annotations

from collections.abc import Callable


class Progress:
    def note(self, text: str) -> None:
        """A sentence worth showing: a warning, a step, a summary line."""

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
