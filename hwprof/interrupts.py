"""SIGTERM (what CI runners and schedulers send) and SIGHUP (a closed terminal or SSH session) stop a command
the way Ctrl-C does; a signal the process was started ignoring (`nohup`'s SIGHUP) stays ignored.

The handler raises at once, and also remembers the signal: CPython drops an exception raised
while a finalizer happens to run, so the runner asks `raise_if_pending` between bursts, and
a signal that was swallowed still stops the run within a burst. Where an exception must not
land (a dataset's last write, a child's exit status being collected) `signals_deferred` and
`signals_handled` keep signals from raising for the length of a block.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP: stop as Ctrl-C does, keep what is finished."""

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


# Windows has no SIGHUP
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


def _heeded(signum: int) -> bool:
    """Whether hwprof acts on a stop signal: not where the process was started ignoring it (`nohup` ignores
    SIGHUP so that the command outlives its terminal)."""
    return signal.getsignal(signum) is not signal.SIG_IGN


def _install(signums, handler) -> dict:
    """`handler` for each of these signals that hwprof heeds; the handlers they had, by signal (none outside the
    main thread, where signals cannot be caught)."""
    previous = {}
    try:
        for signum in signums:
            if _heeded(signum):
                previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: nothing was installed
        pass
    return previous


def _restore(previous: dict) -> None:
    """Put back the handlers `_install` replaced (one it was told of as None, set outside Python, as SIG_DFL)."""
    for signum, earlier in previous.items():
        signal.signal(signum, earlier if earlier is not None else signal.SIG_DFL)


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Interrupted` inside the block, and so does SIGINT where Python's own Ctrl-C
    handler has it (a host's handler is left in place): remembered, so a Ctrl-C whose exception C code dropped
    (a `__hash__` run by a dict lookup clears it silently) still stops the run. Outside the main thread (an
    embedding program's worker) signals are left alone."""
    global _pending_signum
    python_ctrl_c = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ours = [signum for signum in STOP_SIGNALS if signum != signal.SIGINT or python_ctrl_c]
    previous = _install(ours, _raise_interrupted)
    try:
        yield
    finally:
        _pending_signum = None
        _restore(previous)


@contextmanager
def signals_handled(handler) -> Iterator[bool]:
    """SIGINT, SIGTERM and SIGHUP call `handler(signum, frame)` inside the block instead of raising (those the
    process ignores stay ignored); yields whether they do (outside the main thread signals cannot be caught, and
    reach the main thread as before)."""
    previous = _install(STOP_SIGNALS, handler)
    try:
        yield bool(previous)
    finally:
        _restore(previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Work that must not stop half done (a dataset's final write, its journal's removal): a SIGINT, SIGTERM or
    SIGHUP arriving inside the block is held until it ends, then goes to the handler that was in place, so
    a host program that ignores SIGTERM, or handles it with its own function, keeps doing so. A handler that
    stops the program (Ctrl-C's, or hwprof's SIGTERM handler) raises `Interrupted` as it would have, so a
    Ctrl-C pressed during a clean finish still stops; if an interrupt or error is already stopping the
    program, that signal has nothing left to stop and is dropped."""
    held: list[int] = []
    with signals_handled(lambda signum, frame: held.append(signum)):
        yield
    if not held:
        return
    handler = signal.getsignal(held[0])
    if handler is signal.default_int_handler or handler is _raise_interrupted:
        if sys.exc_info()[0] is None:
            raise Interrupted(held[0])
    else:
        signal.raise_signal(held[0])
