"""Energy per inference from a power sensor, by the idle-load-idle (A-B-A) method.

The load window B brackets N inferences, with N chosen so the window lasts at
least max(sensor.min_window_s, 20 x sensor.update_period_s): a counter that
updates every 100 ms is never read over 10 ms, and a window that still comes
out short is lengthened (up to three times) or marked `short_window`, never
reported as 0 J. Idle power is measured in windows of the same length just
before (A) and just after (A) the load, with the clock settings checked
unchanged across all three.

A device whose power follows a load step slowly (`sensor.response_s`, about a
second on NVIDIA GPUs: a rise under load, a decay tail after it) is run under
load for that long before B opens, B's power is the slope of the counter over
its updates inside it, and the device is left to settle (power flat
within SETTLE_TOLERANCE) before each idle window. The two halves of B give
`power_spread`; GPU clocks, temperature, P-state, clock-event reasons and other
processes seen in B go into the row.

Idle windows are costly with slow sensors, so the after-idle of one item is
reused as the before-idle of the next when it is fresh (under
IDLE_REUSE_S seconds old) and the clock settings are the same: consecutive
items then cost B + A each instead of A + B + A, and every load window is
still bracketed by idle measured on both sides.
"""

from __future__ import annotations

import math
import statistics
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from hwprof.drivers.base import EPOCH_OFFSET_S
from hwprof.schema import GPU_STATE_COLUMNS
from hwprof.traces import WINDOW_KINDS

IDLE_REUSE_S = 30.0
MAX_LOAD_ATTEMPTS = 4  # the first window and up to three lengthened ones
WINDOW_MARGIN = 1.2  # aim this much above the required length, so jitter does not make it short
IDLE_DRIFT_TOLERANCE = 0.10  # idle before vs after, relative
BELOW_IDLE_TOLERANCE = 0.02  # load this far under idle is more than noise: mark the row
SETTLE_TOLERANCE = 0.01  # consecutive settle windows this close: the decay tail is over
SETTLE_MAX_RESPONSES = 8  # give up settling after this many response times (flag not_settled)
LOAD_SPREAD_TOLERANCE = 0.05  # the load window's halves further apart: flag load_unstable
# An item that ran this much faster or slower in its load window than when its latency was timed: flag
# latency_shifted (a launch-bound network on an H200 ran 0.5-1.5x its timed latency between phases)
LATENCY_SHIFT_TOLERANCE = 0.10
POWER_KEYS = ("power_w", "idle_power_w", "energy_mj", "dynamic_energy_mj", "power_source", "power_flags")
WINDOW_KEYS = tuple(c for c in GPU_STATE_COLUMNS if c != "cache")
ENERGY_KEYS = POWER_KEYS + WINDOW_KEYS


def trace_rows(window, kind: str) -> list[tuple]:
    """The trace rows of a sensor's EnergyWindow whose samples were taken in a `kind` window."""
    if kind not in WINDOW_KINDS:
        raise ValueError(f"window kind must be one of {WINDOW_KINDS}, not {kind!r}")
    start_s = window.start_s + EPOCH_OFFSET_S
    bounds = (kind, start_s, start_s + window.duration_s)
    return [(*sample.as_trace_row(), *bounds) for sample in window.samples]


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


def _window_power_w(sensor, window) -> float | None:
    """Instantaneous samples where the sensor has them (no edge effects), else the steady power."""
    if sensor.samples_are_instantaneous and window.sampled_energy_j is not None and window.duration_s > 0:
        return window.sampled_energy_j / window.duration_s
    return window.steady_power_w


def settle(sensor, trace: list | None = None) -> bool:
    """Wait until the device's power stops falling after a load; False if it never did (bounded)."""
    response_s = sensor.response_s
    if response_s <= 0:
        return True
    step_s = max(response_s / 2, 5 * sensor.update_period_s)
    deadline_s = sensor.clock.monotonic() + SETTLE_MAX_RESPONSES * response_s
    previous = None
    while sensor.clock.monotonic() < deadline_s:
        sensor.start_window()
        sensor.clock.sleep(step_s)
        window = sensor.stop_window()
        _record(window, trace, "idle")
        power_w = _window_power_w(sensor, window)
        if previous is not None and power_w is not None and abs(power_w - previous) <= SETTLE_TOLERANCE * previous:
            return True
        previous = power_w
    return False


def _measure_idle(sensor, duration_s: float, trace: list | None) -> IdleMeasurement:
    settled = settle(sensor, trace)
    clock_key = sensor.clock_key()
    sensor.start_window()
    sensor.clock.sleep(duration_s)
    window = sensor.stop_window()
    _record(window, trace, "idle")
    flags = [f for f in window.flags if f in ("throttled", "short_window", "no_energy")]
    if not settled:
        flags.append("not_settled")
    idle = IdleMeasurement(window.steady_power_w, sensor.clock.monotonic(), clock_key, flags)
    _last_idle[sensor] = idle
    return idle


def _idle_before(sensor, duration_s: float, trace: list | None) -> IdleMeasurement:
    """The previous item's after-idle if fresh and at the same clock settings, else a new one."""
    recent = _last_idle.get(sensor)
    if (
        recent is not None
        and recent.power_w is not None
        and sensor.clock.monotonic() - recent.measured_at_s < IDLE_REUSE_S
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


def _warm_up(run: Callable[[int], None], latency_s: float, sensor) -> None:
    """Run under load until the device's power has risen, so the load window opens on the steady state."""
    response_s = sensor.response_s
    if response_s > 0:
        run(max(1, math.ceil(response_s / latency_s)))


def _measure_load(run: Callable[[int], None], latency_s: float, sensor, required_s: float, trace: list | None):
    """Run N inferences inside one window, lengthening it while it comes out too short."""
    _warm_up(run, latency_s, sensor)
    iterations = max(1, math.ceil(required_s * WINDOW_MARGIN / latency_s))
    window = _load_window(run, iterations, sensor, trace)
    for _ in range(MAX_LOAD_ATTEMPTS - 1):
        if window.duration_s >= required_s:  # long enough: a longer window would give no energy either
            break
        per_iteration_s = max(window.duration_s, 1e-9) / iterations  # the latency estimate was off
        iterations = max(2 * iterations, math.ceil(required_s * WINDOW_MARGIN / per_iteration_s))
        window = _load_window(run, iterations, sensor, trace)  # right after a load: still warm
    return window, iterations


def window_state(window) -> dict:
    """The GPU's state in a load window as row values (None where the sensor does not report it)."""
    meta = window.metadata
    state = dict.fromkeys(WINDOW_KEYS)
    state["gpu_sm_clock_mhz"] = meta.get("sm_clock_mhz_median")
    state["gpu_mem_clock_mhz"] = meta.get("mem_clock_mhz_median")
    state["gpu_temperature_c"] = meta.get("temperature_c_max")
    if meta.get("pstates"):
        state["gpu_pstate"] = ",".join(f"P{p}" for p in meta["pstates"])
    if "clock_event_reasons" in meta:
        state["gpu_clock_event_reasons"] = ",".join(meta["clock_event_reasons"])
    state["gpu_other_processes"] = meta.get("other_processes_max")
    state["gpu_load_percent"] = meta.get("gr3d_percent_median")  # a Jetson's tegrastats; NVML reports none
    state["emc_load_percent"] = meta.get("emc_percent_median")
    state["power_spread"] = power_spread(window)
    return state


def power_spread(window) -> float | None:
    """How far apart the power of the window's two halves is, relative to their mean; None where the sensor
    gave no halves (too few reads or samples in one)."""
    halves = window.metadata.get("power_w_halves")
    if halves and sum(halves) > 0:
        return abs(halves[0] - halves[1]) / statistics.fmean(halves)
    return None


def load_unstable(spread: float | None) -> bool:
    """The load's power moved between the window's halves by more than noise: its mean hides a change."""
    return (spread or 0) > LOAD_SPREAD_TOLERANCE


def below_idle(power_w: float, idle_power_w: float) -> bool:
    """A load under its idle baseline by more than noise: the idle drifted, or the load's figure is wrong."""
    return power_w < idle_power_w * (1 - BELOW_IDLE_TOLERANCE)


def measure_energy(run: Callable[[int], None], latency_s: float, sensor, trace: list | None = None) -> dict:
    """Power and energy per inference of the item `run(n)` executes n times (synchronised).

    Returns power_w (load), idle_power_w, energy_mj (gross, per inference),
    dynamic_energy_mj (net of idle), power_source, power_flags (comma-
    separated, "" when clean) and the load window's state (ENERGY_KEYS).
    Energies are None when the sensor gave none, never 0. With `trace` a list,
    every power sample is appended to it as a trace row (hwprof.traces),
    tagged with its idle or load window (settling counts as idle).
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

    result = dict.fromkeys(POWER_KEYS)
    result["power_source"] = sensor.source
    result.update(window_state(load))
    if load_unstable(result["power_spread"]):
        flags.append("load_unstable")
    if result["gpu_other_processes"]:
        flags.append("other_gpu_processes")
    power_w = load.steady_power_w
    if load.energy_j is not None and power_w is not None:
        seconds_per_inference = load.duration_s / iterations  # as it ran in the window
        if abs(seconds_per_inference / latency_s - 1) > LATENCY_SHIFT_TOLERANCE:
            flags.append("latency_shifted")  # energy_mj is per inference at the window's pace, not latency_ms's
        result["power_w"] = power_w
        result["energy_mj"] = power_w * seconds_per_inference * 1000.0
        if idle_power_w is not None:
            result["idle_power_w"] = idle_power_w
            result["dynamic_energy_mj"] = (power_w - idle_power_w) * seconds_per_inference * 1000.0
            if below_idle(power_w, idle_power_w):
                flags.append("below_idle")
    result["power_flags"] = ",".join(dict.fromkeys(flags))
    return result
