"""One small interface for every power sensor, and the polling they share.

A sensor gives energy over a window that brackets some work. It may have a
cumulative energy counter (RAPL, NVML), timestamped power samples (tegrastats,
INA3221), or both; a background thread polls it so that counter wraps are seen
and every sample can go into a trace. Times are `time.monotonic()` seconds
inside a sensor and wall-clock (epoch) seconds in traces.
"""

from __future__ import annotations

import statistics
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# Converts monotonic times to epoch seconds for traces; fixed once so a trace is consistent.
EPOCH_OFFSET_S = time.time() - time.monotonic()

SAMPLE_HISTORY = 200_000  # samples kept per sensor; at 100 Hz about half an hour


class SensorUnavailable(Exception):
    """A sensor cannot be used here; the message says why and how to fix it, in one sentence."""


@dataclass(frozen=True)
class PowerSample:
    """One power reading: `t_s` is monotonic seconds, `sensor` names the rail or zone."""

    t_s: float
    sensor: str
    power_w: float

    def as_trace_row(self) -> tuple[float, str, float]:
        return (self.t_s + EPOCH_OFFSET_S, self.sensor, self.power_w)


@dataclass
class EnergyWindow:
    """What a sensor saw between `start_window()` and `stop_window()`."""

    energy_j: float | None  # None when the window gave no valid energy (never a guessed 0)
    duration_s: float
    source: str
    samples: list[PowerSample] = field(default_factory=list)  # every sample, all rails
    counter_energy_j: float | None = None  # from the cumulative counter, when there is one
    sampled_energy_j: float | None = None  # mean of primary samples x duration
    clocks_changed: bool = False
    throttled: bool = False
    flags: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)  # clocks, temperatures, limits seen in the window
    start_s: float | None = None  # monotonic seconds at the window's start

    @property
    def power_w(self) -> float | None:
        if self.energy_j is None or self.duration_s <= 0:
            return None
        return self.energy_j / self.duration_s


def probe_update_period(
    read: Callable[[], float], max_probe_s: float, nominal_s: float, changes_wanted: int = 6
) -> tuple[float, bool]:
    """Median time between changes of `read()`; (nominal_s, False) if it barely moved.

    Windows are sized from this, so a sensor that updates every 100 ms is never
    asked for a 10 ms window.
    """
    change_times = []
    last = read()
    deadline = time.monotonic() + max_probe_s
    pause_s = min(nominal_s / 20, 0.002)
    while time.monotonic() < deadline and len(change_times) <= changes_wanted:
        value = read()
        if value != last:
            change_times.append(time.monotonic())
            last = value
        time.sleep(pause_s)
    if len(change_times) < 3:
        return nominal_s, False
    gaps = [b - a for a, b in zip(change_times, change_times[1:])]
    return statistics.median(gaps), True


@dataclass(frozen=True)
class WindowMark:
    """Where a window starts: monotonic time, the counter (None without one) and the clocks then."""

    t_s: float
    energy_j: float | None
    state: dict


class NoSensor:
    """Stands where a power sensor would: it measures nothing and says why."""

    available = False
    source = None

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def metadata(self) -> None:
        return None

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"NoSensor({self.reason!r})"


class PowerSensor(ABC):
    """Discover, open, window, close. Subclasses say how to read their hardware.

    Subclasses set `source`, `primary_sensor` (the sample name that is the
    measured total), `update_period_s`, `min_window_s` and `poll_interval_s`,
    and implement `_poll_samples`; counter sensors also implement `_read_energy_j`.
    """

    available = True  # a NoSensor is not
    reason: str | None = None
    source: str = ""
    primary_sensor: str = ""
    update_period_s: float = 0.1
    min_window_s: float = 1.0
    poll_interval_s: float = 0.05
    has_counter: bool = False
    samples_are_instantaneous: bool = True
    state_every_poll: bool = True  # False where state is costly to read (many CPUs)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: deque[PowerSample] = deque(maxlen=SAMPLE_HISTORY)
        self._states: deque[tuple[float, dict]] = deque(maxlen=SAMPLE_HISTORY)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_error: BaseException | None = None
        self._window_start: WindowMark | None = None

    # -- what subclasses provide -------------------------------------------------
    def _open_hardware(self) -> None:
        """Acquire handles, start processes, probe update periods."""

    def _close_hardware(self) -> None:
        """Release what `_open_hardware` acquired."""

    @abstractmethod
    def _poll_samples(self, now: float) -> list[PowerSample]:
        """Read the hardware once; return the power samples seen since the last call."""

    def _read_energy_j(self) -> float | None:
        """Cumulative energy in joules (wraps already unfolded), or None without a counter."""
        return None

    def _read_state(self) -> dict:
        """Clocks, temperatures, throttle state: cheap reads taken with every poll."""
        return {}

    def clock_key(self) -> tuple:
        """Settings that must match for two idle measurements to be interchangeable."""
        return ()

    def _summarise_window(self, window: EnergyWindow, states: list[dict]) -> None:
        """Fill clocks_changed, throttled and metadata from the states polled in the window."""

    @abstractmethod
    def metadata(self) -> dict:
        """What this sensor is and how it reads, for the run's provenance."""

    # -- shared machinery --------------------------------------------------------
    def open(self) -> PowerSensor:
        if self._thread is not None:
            return self
        self._open_hardware()
        self._stop_event.clear()
        self._poll_once()
        self._thread = threading.Thread(target=self._poll_loop, name=f"hwprof-poll-{self.source}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._stop_event.set()
            self._thread.join(timeout=5)
            self._thread = None
        self._close_hardware()

    def __enter__(self) -> PowerSensor:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _poll_once(self) -> None:
        with self._lock:  # hardware reads are serialised: counters unfold wraps in one place
            now = time.monotonic()
            samples = self._poll_samples(now)
            state = self._read_state() if self.state_every_poll else {}
            self._samples.extend(samples)
            if state:
                self._states.append((now, state))

    def _poll_loop(self) -> None:
        next_due = time.monotonic()
        while not self._stop_event.is_set():
            try:
                self._poll_once()
            except Exception as error:  # surfaced by the next stop_window
                self._poll_error = error
                return
            next_due += self.poll_interval_s
            delay = next_due - time.monotonic()
            if delay < 0:  # fell behind (busy machine): do not try to catch up in a burst
                next_due = time.monotonic()
                delay = 0
            self._stop_event.wait(delay)

    def _check_running(self) -> None:
        if self._thread is None:
            raise RuntimeError(f"power sensor {self.source} is not open")
        if self._poll_error is not None:
            raise RuntimeError(f"power sensor {self.source} stopped: {self._poll_error}")

    def mark(self) -> WindowMark:
        """The counter and state now: any number of windows, nested or overlapping, can start from marks."""
        self._check_running()
        with self._lock:
            return WindowMark(time.monotonic(), self._read_energy_j(), self._read_state())

    def window_since(self, mark: WindowMark) -> EnergyWindow:
        """What the sensor saw from `mark` until now."""
        self._check_running()
        with self._lock:
            stop_s = time.monotonic()
            energy_j = self._read_energy_j()
            stop_state = self._read_state()
            samples = [s for s in self._samples if mark.t_s <= s.t_s <= stop_s]
            states = [mark.state] + [st for t, st in self._states if mark.t_s <= t <= stop_s] + [stop_state]
        return self._build_window(mark.t_s, stop_s, mark.energy_j, energy_j, samples, [s for s in states if s])

    def start_window(self) -> None:
        self._window_start = self.mark()

    def stop_window(self) -> EnergyWindow:
        if self._window_start is None:
            raise RuntimeError("stop_window() called without start_window()")
        start, self._window_start = self._window_start, None
        return self.window_since(start)

    def _build_window(
        self,
        start_s: float,
        stop_s: float,
        start_energy_j: float | None,
        stop_energy_j: float | None,
        samples: list[PowerSample],
        states: list[dict],
    ) -> EnergyWindow:
        duration_s = stop_s - start_s
        window = EnergyWindow(
            energy_j=None, duration_s=duration_s, source=self.source, samples=samples, start_s=start_s
        )
        primary = [s.power_w for s in samples if s.sensor == self.primary_sensor]
        if primary:
            window.sampled_energy_j = statistics.fmean(primary) * duration_s
        if start_energy_j is not None and stop_energy_j is not None:
            window.counter_energy_j = stop_energy_j - start_energy_j
        if duration_s < 20 * self.update_period_s or duration_s < self.min_window_s:
            window.flags.append("short_window")
        if self.has_counter:
            if window.counter_energy_j:  # a counter that did not move gives no energy, never 0 J
                window.energy_j = window.counter_energy_j
            elif window.sampled_energy_j is not None and self.samples_are_instantaneous:
                window.energy_j = window.sampled_energy_j
                window.flags.append("counter_not_updated")
            else:
                window.flags.append("no_energy")
        elif window.sampled_energy_j is not None:
            window.energy_j = window.sampled_energy_j
        else:
            window.flags.append("no_energy")
        self._summarise_window(window, states)
        if window.clocks_changed:
            window.flags.append("clocks_changed")
        if window.throttled:
            window.flags.append("throttled")
        return window
