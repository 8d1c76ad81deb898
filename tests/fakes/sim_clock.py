"""A simulated clock for sensors: sleeping advances it at once, pollers fire at their virtual times.

A sensor built with `clock=SimClock()` reads `monotonic()` from it, waits with
`sleep()` and polls through `every()`; the fake hardware reads the same clock.
A test of a 10 s step response then takes milliseconds and gives the same
figures on a busy machine as on an idle one.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time


class SimClock:
    """Virtual seconds. With `follow_real`, real time also passes (for code that times real work)."""

    def __init__(self, start_s: float = 1000.0, follow_real: bool = False) -> None:
        self._virtual_s = start_s
        self._real_start = time.monotonic() if follow_real else None
        self._tickers: list[tuple[float, int, list]] = []  # (due_s, order, [interval_s, fn, active])
        self._order = itertools.count()
        self._firing = False
        self._lock = threading.RLock()

    def monotonic(self) -> float:
        if self._real_start is None:
            return self._virtual_s
        return self._virtual_s + (time.monotonic() - self._real_start)

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float, quiet: bool = False) -> None:
        """Move time on, running every poller that falls due on the way (in order).

        `quiet` moves it without running pollers (the time a hardware call takes)."""
        with self._lock:
            if self._firing or quiet:  # a poller's own calls take time, but run no other poller
                self._virtual_s += seconds
                return
            end_s = self.monotonic() + seconds
            while self._tickers and self._tickers[0][0] <= end_s:
                due_s, order, ticker = heapq.heappop(self._tickers)
                interval_s, fn, active = ticker
                if not active:
                    continue
                self._virtual_s += max(0.0, due_s - self.monotonic())
                self._firing = True
                try:
                    fn()
                finally:
                    self._firing = False
                heapq.heappush(self._tickers, (max(due_s + interval_s, self.monotonic()), order, ticker))
            self._virtual_s += max(0.0, end_s - self.monotonic())

    def every(self, interval_s: float, fn, name: str = ""):
        """Call fn every interval_s of virtual time, from now on; returns the function that stops it."""
        ticker = [interval_s, fn, True]
        with self._lock:
            heapq.heappush(self._tickers, (self.monotonic() + interval_s, next(self._order), ticker))

        def stop() -> None:
            ticker[2] = False

        return stop


class WallClock:
    """Real time behind the SimClock interface, for fake hardware read by code that sleeps for real."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def advance(self, seconds: float, quiet: bool = False) -> None:
        """A call's cost passes by itself in real time."""
