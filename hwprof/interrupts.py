"""SIGTERM (what CI runners and schedulers send) stops a command the way Ctrl-C does.

The handler raises at once, and also remembers the signal: CPython drops an exception raised
while a finalizer happens to run, so the runner asks `raise_if_pending` between bursts, and
a signal that was swallowed still stops the run within a burst.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: stop as Ctrl-C does, keep what is finished."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__()
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_pending_signum: int | None = None


def _raise_interrupted(signum, frame):
    global _pending_signum
    _pending_signum = signum
    raise Interrupted(signum)


def raise_if_pending() -> None:
    """Raise the interrupt of a signal that arrived since `sigterm_interrupts` began, if any."""
    if _pending_signum is not None:
        raise Interrupted(_pending_signum)


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Interrupted` inside the block; outside the main thread (an embedding program's
    worker) signals are left alone."""
    global _pending_signum
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupted) or signal.SIG_DFL
    except ValueError:
        previous = None
    try:
        yield
    finally:
        _pending_signum = None
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
