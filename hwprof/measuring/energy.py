"""Energy per inference from a power sensor, by the idle-load-idle (A-B-A) method.

The load window B brackets N inferences, with N chosen so the window lasts at
least max(sensor.min_window_s, 20 x sensor.update_period_s): a counter that
updates every 100 ms is never read over 10 ms, and a window that still comes
out short is lengthened (up to three times) or marked `short_window`, never
reported as 0 J. Idle power is measured in windows of the same length just
before (A) and just after (A) the load, with the clock settings checked
unchanged across all three.

Idle windows are costly with slow sensors, so the after-idle of one item is
reused as the before-idle of the next when it is fresh (under
IDLE_REUSE_S seconds old) and the clock settings are the same: consecutive
items then cost B + A each instead of A + B + A, and every load window is
still bracketed by idle measured on both sides.
"""

from __future__ import annotations

import math
import statistics
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from hwprof.measuring.trace import trace_rows

IDLE_REUSE_S = 30.0
MAX_LOAD_ATTEMPTS = 4  # the first window and up to three lengthened ones
WINDOW_MARGIN = 1.2  # aim this much above the required length, so jitter does not make it short
IDLE_DRIFT_TOLERANCE = 0.10  # idle before vs after, relative
BELOW_IDLE_TOLERANCE = 0.02  # load this far under idle is more than noise: mark the row
ENERGY_KEYS = ("power_w", "idle_power_w", "energy_mj", "dynamic_energy_mj", "power_source", "power_flags")


@dataclass
class IdleMeasurement:
    power_w: float | None
    measured_at_s: float  # monotonic time at the end of the window
    clock_key: tuple
    flags: list[str] = field(default_factory=list)


_last_idle: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def required_window_s(sensor) -> float:
    """The shortest window whose energy this sensor can measure honestly."""
    return max(sensor.min_window_s, 20 * sensor.update_period_s)


def _record(window, trace: list | None, kind: str) -> None:
    """Every sample of the window into the trace, tagged with the window (idle or load) it belongs to."""
    if trace is not None:
        trace.extend(trace_rows(window, kind))


def _measure_idle(sensor, duration_s: float, trace: list | None) -> IdleMeasurement:
    clock_key = sensor.clock_key()
    sensor.start_window()
    time.sleep(duration_s)
    window = sensor.stop_window()
    _record(window, trace, "idle")
    flags = [f for f in window.flags if f in ("throttled", "short_window", "no_energy")]
    idle = IdleMeasurement(window.power_w, time.monotonic(), clock_key, flags)
    _last_idle[sensor] = idle
    return idle


def _idle_before(sensor, duration_s: float, trace: list | None) -> IdleMeasurement:
    """The previous item's after-idle if fresh and at the same clock settings, else a new one."""
    recent = _last_idle.get(sensor)
    if (
        recent is not None
        and recent.power_w is not None
        and time.monotonic() - recent.measured_at_s < IDLE_REUSE_S
        and recent.clock_key == sensor.clock_key()
    ):
        return recent
    return _measure_idle(sensor, duration_s, trace)


def _load_window(run: Callable[[int], None], iterations: int, sensor, trace: list | None):
    sensor.start_window()
    run(iterations)
    window = sensor.stop_window()
    _record(window, trace, "load")
    return window


def _measure_load(run: Callable[[int], None], latency_s: float, sensor, required_s: float, trace: list | None):
    """Run N inferences inside one window, lengthening it while it comes out too short."""
    iterations = max(1, math.ceil(required_s * WINDOW_MARGIN / latency_s))
    window = _load_window(run, iterations, sensor, trace)
    for _ in range(MAX_LOAD_ATTEMPTS - 1):
        if window.duration_s >= required_s and window.energy_j is not None:
            break
        per_iteration_s = max(window.duration_s, 1e-9) / iterations  # the latency estimate was off
        iterations = max(2 * iterations, math.ceil(required_s * WINDOW_MARGIN / per_iteration_s))
        window = _load_window(run, iterations, sensor, trace)
    return window, iterations


def measure_energy(run: Callable[[int], None], latency_s: float, sensor, trace: list | None = None) -> dict:
    """Power and energy per inference of the item `run(n)` executes n times (synchronised).

    Returns power_w (load), idle_power_w, energy_mj (gross, per inference),
    dynamic_energy_mj (net of idle), power_source and power_flags (comma-
    separated, "" when clean). Energies are None when the sensor gave none,
    never 0. With `trace` a list, every power sample is appended to it as a
    trace row (hwprof.measuring.trace), tagged with its idle or load window.
    """
    if not latency_s or not math.isfinite(latency_s) or latency_s <= 0:
        raise ValueError(f"latency_s must be a positive number of seconds, got {latency_s!r}")
    required_s = required_window_s(sensor)
    idle_before = _idle_before(sensor, required_s * WINDOW_MARGIN, trace)
    load_key = sensor.clock_key()
    load, iterations = _measure_load(run, latency_s, sensor, required_s, trace)
    idle_after = _measure_idle(sensor, required_s * WINDOW_MARGIN, trace)

    flags = list(load.flags)
    if len({idle_before.clock_key, load_key, idle_after.clock_key}) > 1 and "clocks_changed" not in flags:
        flags.append("clocks_changed")
    for idle in (idle_before, idle_after):
        flags.extend(f"idle_{f}" for f in idle.flags if f"idle_{f}" not in flags)
    idle_powers = [i.power_w for i in (idle_before, idle_after) if i.power_w is not None]
    idle_power_w = statistics.fmean(idle_powers) if idle_powers else None
    if len(idle_powers) == 2 and abs(idle_powers[0] - idle_powers[1]) > IDLE_DRIFT_TOLERANCE * max(idle_powers):
        flags.append("idle_unstable")

    result = dict.fromkeys(ENERGY_KEYS)
    result["power_source"] = sensor.source
    if load.energy_j is not None:
        result["power_w"] = load.power_w
        result["energy_mj"] = load.energy_j / iterations * 1000.0
        if idle_power_w is not None:
            result["idle_power_w"] = idle_power_w
            result["dynamic_energy_mj"] = (load.energy_j - idle_power_w * load.duration_s) / iterations * 1000.0
            if load.power_w < idle_power_w * (1 - BELOW_IDLE_TOLERANCE):
                flags.append("below_idle")
    result["power_flags"] = ",".join(dict.fromkeys(flags))
    return result
