"""One small interface for every power sensor, and the polling they share.

A sensor gives energy over a window that brackets some work. It may have a
cumulative energy counter (RAPL, NVML), timestamped power samples (tegrastats,
INA3221), or both; a background thread polls it so that counter wraps are seen
and every sample can go into a trace. Times are `time.monotonic()` seconds
inside a sensor and wall-clock (epoch) seconds in traces. A sensor reads time,
waits and polls through its `clock`, so tests can run it on simulated time.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
import time
import weakref
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
    # Between the first and the last counter update seen inside the window: the counter's own edges,
    # so a counter that moves every 100 ms gives the power of the window's steady part exactly.
    aligned_energy_j: float | None = None
    aligned_duration_s: float | None = None
    aligned_power_w: float | None = None  # least-squares slope of energy over the steps' times
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

    @property
    def steady_power_w(self) -> float | None:
        """Power between the counter's steps where it moved inside the window, else `power_w`."""
        if self.aligned_power_w:
            return self.aligned_power_w
        return self.power_w


class Clock:
    """Real time, as sensors read it, wait on it and poll on it."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def every(self, interval_s: float, fn: Callable[[], None], name: str) -> Callable[[], None]:
        """Call fn every interval_s on a daemon thread until the returned function is called."""
        stop_event = threading.Event()

        def loop() -> None:
            next_due = time.monotonic() + interval_s
            while not stop_event.wait(max(0.0, next_due - time.monotonic())):
                fn()
                next_due += interval_s
                if next_due < time.monotonic():  # fell behind (busy machine): do not catch up in a burst
                    next_due = time.monotonic() + interval_s

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()

        def stop() -> None:
            stop_event.set()
            if threading.current_thread() is not thread:  # a sensor collected inside its own poll stops it here
                thread.join(timeout=5)

        return stop


REAL_CLOCK = Clock()


SLOW_PROBE_S = 2.0  # how long a probe goes on for a value that moved, but too seldom to time in its first reads
MIN_CHANGES = 3  # changes a probe times a period from


def probe_update_period(
    read: Callable[[], float],
    max_probe_s: float,
    nominal_s: float,
    changes_wanted: int = 6,
    clock: Clock = REAL_CLOCK,
    frozen_reason: str | None = None,
) -> tuple[float, bool]:
    """Median time between changes of `read()`, and whether it was timed so.

    Windows are sized from this, so a sensor that updates every 100 ms is never
    asked for a 10 ms window. A value that moved fewer than 3 times in `max_probe_s`
    is read on, up to SLOW_PROBE_S: one that still moved fewer times is given the
    longest period its changes allow, never the nominal one, whose windows would be
    short by a step. A value that never moved gives the nominal period (a steady
    power reading says nothing of its period), or with `frozen_reason` raises
    SensorUnavailable with it: a counter that does not move cannot measure.
    """
    change_times = []
    last = read()
    started = clock.monotonic()
    deadline = started + max_probe_s
    slow_deadline = started + max(max_probe_s, SLOW_PROBE_S)
    pause_s = min(nominal_s / 20, 0.002)
    while len(change_times) <= changes_wanted:
        now = clock.monotonic()
        if now >= deadline and not (change_times and len(change_times) < MIN_CHANGES and now < slow_deadline):
            break
        value = read()
        if value != last:
            change_times.append(clock.monotonic())
            last = value
        clock.sleep(pause_s)
    if not change_times:
        if frozen_reason is not None:
            raise SensorUnavailable(frozen_reason)
        return nominal_s, False
    if len(change_times) < MIN_CHANGES:  # k changes in the probe: at most k - 1 periods fit between them
        return max(nominal_s, (clock.monotonic() - started) / max(1, len(change_times) - 1)), False
    gaps = [b - a for a, b in zip(change_times, change_times[1:])]
    return statistics.median(gaps), True


@dataclass(frozen=True)
class WindowMark:
    """Where a window starts: monotonic time, the counter (None without one) and the clocks then."""

    t_s: float
    energy_j: float | None
    state: dict
    # the sum of the primary samples' power and their count until then: a window longer than the samples kept
    # still gets the mean of all of its own
    primary_sum_w_count: tuple[float, int] = (0.0, 0)


def mapping_doubt(sensor, device: str) -> str | None:
    """What to warn of where a GPU sensor was matched to `device` by index, which CUDA and NVML may number apart
    (its metadata says device_mapping_certain False); None where the match is sure, or there is no sensor."""
    return _mapping_doubt(sensor.source, sensor.metadata() if sensor.available else None, device)


def _mapping_doubt(source: str | None, metadata: dict | None, device: str) -> str | None:
    """mapping_doubt from metadata already read, so a caller that reads it for more reads it once."""
    if not metadata or metadata.get("device_mapping_certain") is not False:
        return None
    return (
        f"power: {source} is taken to be {device} by index ({metadata['device_mapping']}); "
        "set CUDA_DEVICE_ORDER=PCI_BUS_ID to be sure"
    )


def sensor_notes(sensor, device: str) -> list[str]:
    """What measure and run warn of about an open sensor: a GPU taken to be `device` by its index (the energy
    may be another GPU's), and what its energy covers beyond the process (its metadata's notes: RAPL's packages
    the process does not run on, a zone left out of the total)."""
    if not sensor.available:
        return []
    metadata = sensor.metadata()
    doubt = _mapping_doubt(sensor.source, metadata, device)
    return [*([doubt] if doubt else []), *(f"power: {note}" for note in metadata.get("notes") or [])]


def stopped_reason(lost: SensorUnavailable) -> str:
    """Why power ends mid-run: the sensor stopped (tegrastats exited, a GPU fell off the bus)."""
    return f"power measurement stopped: {lost}"


class NoSensor:
    """Stands where a power sensor would: it measures nothing and says why."""

    available = False
    source = None

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @classmethod
    def in_place_of(cls, sensor, lost: SensorUnavailable) -> NoSensor:
        """What stands for a sensor that stopped mid-run: it is closed, and power ends from here with the reason."""
        sensor.close()
        return cls(stopped_reason(lost))

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
    state_poll_every: int = 1  # read the state on every n-th poll only, so the counter is read more often
    # True: the state read as a window opens and closes counts (settings compared edge to edge). False
    # (GPUs): only the states polled inside, since a window opens and closes right after a
    # synchronisation, on a GPU that idles for a moment, and the reads at the opening delay the work.
    edge_states: bool = True
    # False: poll only inside windows, so the poller never runs beside the latency being timed
    poll_outside_windows: bool = True
    # True: the counter moves in coarse steps, and a window's power is taken between the steps seen in it
    counter_ticks: bool = False
    response_s: float = 0.0  # how long the device's power takes to follow a load step (0: at once)

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or REAL_CLOCK
        self._lock = threading.RLock()
        self._samples: deque[PowerSample] = deque(maxlen=SAMPLE_HISTORY)
        self._states: deque[tuple[float, dict]] = deque(maxlen=SAMPLE_HISTORY)
        self._counter_reads: deque[tuple[float, float]] = deque(maxlen=SAMPLE_HISTORY)
        # the latest time of a read and of a sample dropped from those kept: a window that starts before it has
        # lost its early ones
        self._reads_dropped_s = -math.inf
        self._samples_dropped_s = -math.inf
        # every primary sample's power summed, and counted, since the sensor was made
        self._primary_sum_w_count = (0.0, 0)
        self._stop_poller: weakref.finalize | None = None
        self._open_marks: set[int] = set()  # windows not yet closed, for sensors that poll only inside them
        self._opened = False
        self._polls = 0
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

    def no_energy_reason(self, during: str) -> str:
        """Why a window long enough still gave no energy (flag no_energy): its counter never moved, or no
        sample came."""
        if self.has_counter:
            return (
                f"the counter of {self.source} did not advance during {during}: frozen counters, as some virtual "
                "machines expose, give no energy"
            )
        return f"{self.source} gave no power sample during {during}"

    # -- shared machinery --------------------------------------------------------
    def open(self) -> PowerSensor:
        if self._opened:
            return self
        try:
            self._open_hardware()
            self._poll_once()
        except BaseException:  # refused while opening (its probe, its first poll): what it acquired is released
            self._close_hardware()
            raise
        self._opened = True
        if self.poll_outside_windows:
            self._start_poller()
        return self

    def close(self) -> None:
        self._stop_polling()
        self._open_marks.clear()
        self._opened = False
        self._close_hardware()

    def __enter__(self) -> PowerSensor:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _start_poller(self) -> None:
        """Poll on the clock through a weak reference: a sensor no one holds any longer (an EnergyMonitor dropped
        unclosed) is collected, and its poller stops with it instead of running for the rest of the process."""
        if self._stop_poller is None:
            stop = self.clock.every(self.poll_interval_s, _weak_tick(self), f"hwprof-poll-{self.source}")
            self._stop_poller = weakref.finalize(self, stop)
            self._stop_poller.atexit = False  # at exit daemon pollers end as before

    def _stop_polling(self) -> None:
        if self._stop_poller is not None:
            self._stop_poller()
            self._stop_poller = None

    def _tick(self) -> None:
        if self._poll_error is not None:
            return
        try:
            self._poll_once()
        except Exception as error:  # surfaced by the next stop_window
            self._poll_error = error

    def _poll_once(self) -> None:
        with self._lock:  # hardware reads are serialised: counters unfold wraps in one place
            if self.has_counter:  # first, so its time is not shifted by the other reads
                energy_j = self._read_energy_j()
                if energy_j is not None:
                    dropped_s = _keep(self._counter_reads, [(self.clock.monotonic(), energy_j)], lambda read: read[0])
                    self._reads_dropped_s = max(self._reads_dropped_s, dropped_s)
            now = self.clock.monotonic()
            samples = self._poll_samples(now)
            due = self._polls % self.state_poll_every == 0
            self._polls += 1
            state = self._read_state() if self.state_every_poll and due else {}
            self._samples_dropped_s = max(self._samples_dropped_s, _keep(self._samples, samples, lambda s: s.t_s))
            primary = [s.power_w for s in samples if s.sensor == self.primary_sensor]
            if primary:
                total_w, count = self._primary_sum_w_count
                self._primary_sum_w_count = (total_w + math.fsum(primary), count + len(primary))
            if state:
                self._states.append((now, state))

    def _check_running(self) -> None:
        if not self._opened:
            raise RuntimeError(f"power sensor {self.source} is not open")
        if isinstance(self._poll_error, SensorUnavailable):
            raise self._poll_error
        if self._poll_error is not None:  # a failing sensor is a reason for no energy, not a crash
            raise self._stopped_answering(self._poll_error) from self._poll_error

    def _stopped_answering(self, error: BaseException) -> SensorUnavailable:
        """A read that failed (a counter file gone, a device that stopped answering) as the sensor's stop reason."""
        if isinstance(error, SensorUnavailable):
            return error
        return SensorUnavailable(f"{self.source} stopped answering ({type(error).__name__}: {error})")

    def _read_edge(self, read: Callable[[], object]):
        """`read()` at a window's edge; a failure there stops the sensor as a failed poll does."""
        try:
            return read()
        except Exception as error:
            self._poll_error = self._poll_error or error  # stopped for good: later windows give the same reason
            raise self._stopped_answering(error) from error

    def mark(self) -> WindowMark:
        """The counter and state now: any number of windows, nested or overlapping, can start from marks.

        A sensor that polls only inside windows polls from its first open mark to its last closed one."""
        self._check_running()
        with self._lock:
            state = self._read_edge(self._read_state) if self.edge_states else {}
            energy_j = self._read_edge(self._read_energy_j)
            mark = WindowMark(self.clock.monotonic(), energy_j, state, self._primary_sum_w_count)
        if not self.poll_outside_windows:
            self._open_marks.add(id(mark))
            self._start_poller()
        return mark

    def window_since(self, mark: WindowMark) -> EnergyWindow:
        """What the sensor saw from `mark` until now.

        A window longer than the reads and samples kept (SAMPLE_HISTORY each) takes its energy from the counter
        at its two ends, or its mean power from the primary samples summed since its mark, and has no halves and
        no counter steps: those would cover only the part still kept."""
        if not self.poll_outside_windows:
            self._open_marks.discard(id(mark))
            if not self._open_marks:
                self._stop_polling()
        self._check_running()
        with self._lock:
            energy_j = self._read_edge(self._read_energy_j)
            stop_s = self.clock.monotonic()
            samples = [s for s in self._samples if mark.t_s <= s.t_s <= stop_s]
            polled = [st for t, st in self._states if mark.t_s <= t <= stop_s]
            if self.edge_states:
                states = [mark.state, *polled, self._read_edge(self._read_state)]
            else:
                states = polled or [self._read_edge(self._read_state)]
            reads = [(t, e) for t, e in self._counter_reads if mark.t_s < t < stop_s]
            reads_lost = self._reads_dropped_s > mark.t_s
            samples_lost = self._samples_dropped_s >= mark.t_s
            primary_mean_w = _mean_since(mark.primary_sum_w_count, self._primary_sum_w_count) if samples_lost else None
        if mark.energy_j is not None and energy_j is not None:
            reads = [(mark.t_s, mark.energy_j), *reads, (stop_s, energy_j)]
            self._check_advancing(reads)
        window = self._build_window(
            mark.t_s, stop_s, mark.energy_j, energy_j, samples, [s for s in states if s], primary_mean_w
        )
        if reads_lost if self.has_counter else samples_lost:
            return window
        if mark.energy_j is not None and energy_j is not None:
            if self.counter_ticks:
                _align_to_counter_steps(window, reads)
            else:
                _counter_halves(window, reads, self.update_period_s)
        elif not self.has_counter:
            _sampled_halves(window, self.primary_sensor)
        return window

    def _check_advancing(self, reads: list[tuple[float, float]]) -> None:
        """Stop the sensor where its counter stood still, inside a window, for as long as the shortest window it
        measures: it has frozen (some virtual machines' counters do), and the window's energy would be short
        by that stretch with nothing to say so. A sensor with instantaneous samples falls back on them instead.
        A counter that steps back (reset by a driver reload, or wrapped unseen) stops the sensor on any sensor: the
        window's energy would be negative, or short by the lost count."""
        if not self.has_counter:
            return
        for (t0, e0), (t, e) in zip(reads, reads[1:]):
            if e < e0:
                self._poll_error = SensorUnavailable(
                    f"the counter of {self.source} went back by {e0 - e:.3f} J at {t - reads[0][0]:.2f} s into a "
                    f"{reads[-1][0] - reads[0][0]:.2f} s window: it was reset (a driver reload, a GPU reset) or wrapped "
                    "unseen, so it gives no energy from there"
                )
                raise self._poll_error
        if self.samples_are_instantaneous:
            return
        still_s, since_s, first = 0.0, reads[0][0], reads[0]
        for t, e in reads[1:]:
            if e != first[1]:
                first = (t, e)
            elif t - first[0] > still_s:
                still_s, since_s = t - first[0], first[0]
        limit_s = max(self.min_window_s, 20 * self.update_period_s)
        if still_s >= limit_s:
            self._poll_error = SensorUnavailable(
                f"the counter of {self.source} did not advance for {still_s:.2f} s from {since_s - reads[0][0]:.2f} s "
                f"into a {reads[-1][0] - reads[0][0]:.2f} s window (it moves every {self.update_period_s:g} s): "
                "it froze, as some virtual machines' counters do, and gives no energy from there"
            )
            raise self._poll_error

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
        primary_mean_w: float | None = None,
    ) -> EnergyWindow:
        """`primary_mean_w`, where given, is the mean of the window's primary samples, some no longer kept."""
        duration_s = stop_s - start_s
        window = EnergyWindow(
            energy_j=None, duration_s=duration_s, source=self.source, samples=samples, start_s=start_s
        )
        primary = [s.power_w for s in samples if s.sensor == self.primary_sensor]
        if primary_mean_w is None and primary:
            primary_mean_w = statistics.fmean(primary)
        if primary_mean_w is not None:
            window.sampled_energy_j = primary_mean_w * duration_s
        if start_energy_j is not None and stop_energy_j is not None:
            window.counter_energy_j = stop_energy_j - start_energy_j
        if duration_s < 20 * self.update_period_s or duration_s < self.min_window_s:
            window.flags.append("short_window")
        if self.has_counter:
            if window.counter_energy_j is not None and window.counter_energy_j > 0:  # never 0 J, never below
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


def _weak_tick(sensor: PowerSensor) -> Callable[[], None]:
    """The sensor's poll, for its poller thread, without a reference that would keep the sensor alive."""
    ref = weakref.ref(sensor)

    def tick() -> None:
        alive = ref()
        if alive is not None:
            alive._tick()

    return tick


def _keep(history: deque, items: list, time_of: Callable) -> float:
    """Append `items` to `history` (bounded); the latest time among the entries that made room for them."""
    overflow = len(history) + len(items) - history.maxlen
    if overflow <= 0:
        history.extend(items)
        return -math.inf
    dropped = [*itertools.islice(history, min(overflow, len(history))), *items[: max(0, overflow - len(history))]]
    history.extend(items)
    return max(time_of(entry) for entry in dropped)


def _mean_since(before: tuple[float, int], now: tuple[float, int]) -> float | None:
    """The mean power of the primary samples polled between two running totals; None where none came."""
    count = now[1] - before[1]
    return (now[0] - before[0]) / count if count else None


def _align_to_counter_steps(window: EnergyWindow, reads: list[tuple[float, float]]) -> None:
    """Energy and time between the first and the last counter step seen, and the power of each half.

    A step happened between the read that first shows it and the one before: its time is taken
    midway, at most half a poll off at either end, so the steady power of a window is not diluted
    by the part of an update period the counter had not yet shown."""
    steps = [((t0 + t) / 2, e) for (t0, e0), (t, e) in zip(reads, reads[1:]) if e != e0]
    if len(steps) < 2:
        return
    (t_first, e_first), (t_last, e_last) = steps[0], steps[-1]
    window.aligned_energy_j, window.aligned_duration_s = e_last - e_first, t_last - t_first
    window.aligned_power_w = statistics.linear_regression([t for t, _ in steps], [e for _, e in steps]).slope
    if len(steps) >= 5:
        t_mid, e_mid = steps[len(steps) // 2]
        window.metadata["power_w_halves"] = [
            round((e_mid - e_first) / (t_mid - t_first), 3),
            round((e_last - e_mid) / (t_last - t_mid), 3),
        ]


# Counter updates each half of a window spans: a read lags the counter by up to one update, which then moves
# the halves' spread by 3% at most.
MIN_UPDATES_PER_HALF = 50
MIN_READS_PER_HALF = 4  # the median of their pairwise slopes outvotes one late read
MAX_READS_PER_HALF = 100  # a long window's half is thinned to this many reads: its pairs grow as their square
MIN_SAMPLES_PER_HALF = 3


def _counter_halves(window: EnergyWindow, reads: list[tuple[float, float]], update_period_s: float) -> None:
    """The power of each half of a window from a counter that updates far faster than it is polled (RAPL): the
    median of the slopes between every two reads of the half (Theil-Sen). A read that came late (its poller
    descheduled, the counter stalled a moment) moves a few of those slopes, not the median, where one read
    splitting the window at its middle tipped the spread past 5% by itself."""
    t_start, t_stop = reads[0][0], reads[-1][0]
    t_mid = (t_start + t_stop) / 2
    if t_mid - t_start < MIN_UPDATES_PER_HALF * update_period_s:
        return
    halves = [[read for read in reads if read[0] <= t_mid], [read for read in reads if read[0] >= t_mid]]
    if min(len(half) for half in halves) < MIN_READS_PER_HALF:
        return
    window.metadata["power_w_halves"] = [round(_median_slope(half), 3) for half in halves]


def _median_slope(reads: list[tuple[float, float]]) -> float:
    """Theil-Sen: the median slope between every two reads, over evenly thinned reads where there are many."""
    if len(reads) > MAX_READS_PER_HALF:
        step = (len(reads) - 1) / (MAX_READS_PER_HALF - 1)
        reads = [reads[round(i * step)] for i in range(MAX_READS_PER_HALF)]
    return statistics.median(
        (e1 - e0) / (t1 - t0) for i, (t0, e0) in enumerate(reads) for t1, e1 in reads[i + 1 :] if t1 > t0
    )


def _sampled_halves(window: EnergyWindow, primary_sensor: str) -> None:
    """The mean power of each half of a window from a sensor's own power samples (tegrastats, INA3221)."""
    t_mid = window.start_s + window.duration_s / 2
    primary = [s for s in window.samples if s.sensor == primary_sensor]
    halves = [[s.power_w for s in primary if s.t_s < t_mid], [s.power_w for s in primary if s.t_s >= t_mid]]
    if min(len(half) for half in halves) >= MIN_SAMPLES_PER_HALF:
        window.metadata["power_w_halves"] = [round(statistics.fmean(half), 3) for half in halves]
