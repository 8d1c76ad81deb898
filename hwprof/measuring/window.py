"""The energy of any code: `hwprof.energy_window` for one block, `hwprof.EnergyMonitor` for named windows.

For a training step, a data loader or a whole script, where `measure`'s repeated,
calibrated windows do not apply. The same honesty rules hold: the sensor that
covers the device (or the one asked for) is read around the code; without one,
or when the code ran too briefly for the sensor to measure, the energy stays
None and the reason says why. Nothing is estimated.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hwprof.drivers import NoSensor, SensorUnavailable, open_sensor
from hwprof.drivers.base import mapping_doubt
from hwprof.drivers.host import check_sysfs_root, parse_device
from hwprof.errors import HwprofError, HwprofWarning, true_or_false, warn
from hwprof.measuring.energy import load_unstable, power_spread, required_window_s


class DeviceMappingWarning(HwprofWarning):
    """The GPU sensor was matched to the device by index, so it may be reading another GPU than the one measured."""


@dataclass
class CodeEnergy:
    """What a block cost. Filled in when the block ends; None where nothing was measured."""

    device: str
    duration_s: float | None = None
    energy_j: float | None = None
    power_w: float | None = None  # mean power over the block
    source: str | None = None  # the sensor, e.g. rapl:package-0 or nvml:0:total_energy
    flags: list[str] = field(default_factory=list)  # e.g. short_window, clocks_changed, throttled, load_unstable
    power_spread: float | None = None  # the two halves' power apart, relative (None where the sensor gave no halves)
    unavailable_reason: str | None = None  # why energy_j is None
    name: str | None = None  # the window's name, for EnergyMonitor windows


class EnergyMonitor:
    """Named, nestable windows over one open sensor, for training loops (Zeus's begin/end style).

        monitor = hwprof.EnergyMonitor(device="cuda:0")
        monitor.begin_window("epoch")
        for batch in loader:
            monitor.begin_window("step")
            train_step(batch)
            step = monitor.end_window("step")  # step.energy_j, step.power_w, step.duration_s, step.flags
        epoch = monitor.end_window("epoch")
        monitor.close()

    A CUDA device torch cannot see, a tegrastats that is not a path, or a HWPROF_SYSFS_ROOT that is not a folder, is
    refused (HwprofError) when the monitor is made.
    Windows are independent: any number may be open at once, nested or overlapping, each
    by its own name. The sensor stays open (and polling) until `close()`, the end of a
    `with` block, or the monitor's collection once nothing refers to it (a notebook cell run
    again); a monitor is not shared between threads.
    """

    def __init__(self, device: str = "cpu", power: str = "auto", tegrastats: str | os.PathLike | None = None) -> None:
        check_sysfs_root()  # else every sensor reads as missing, and the reason says to set it
        self._ref = parse_device(device)
        if self._ref.kind == "cuda":  # refused here, before the code runs, not when its window ends
            from hwprof.measuring.session import resolve_device

            resolve_device(device)
        self.device = str(self._ref)
        self._sensor = open_sensor(power, self.device, tegrastats)
        # closes the sensor of a monitor dropped unclosed, so its poller does not run for the rest of the process
        self._release = weakref.finalize(self, self._sensor.close)
        self._release.atexit = False  # at exit, as before: daemon pollers end with the process
        doubt = mapping_doubt(self._sensor, self.device)
        if doubt:
            warn(doubt, DeviceMappingWarning)
        self._open: dict[str, tuple[object, float]] = {}  # name -> (sensor mark or None, perf_counter start)
        self._closed = False

    @property
    def source(self) -> str | None:
        """The sensor read, e.g. rapl:package-0; None without one."""
        return self._sensor.source

    @property
    def unavailable_reason(self) -> str | None:
        """Why no window of this monitor can have an energy; None when a sensor is in use."""
        return self._sensor.reason

    @property
    def open_windows(self) -> list[str]:
        return list(self._open)

    def __repr__(self) -> str:
        """What a monitor reads: its device, its sensor or why it has none, and the windows open."""
        sensor = f"source={self.source!r}" if self.source else f"unavailable_reason={self.unavailable_reason!r}"
        closed = ", closed=True" if self._closed else ""
        return f"EnergyMonitor(device={self.device!r}, {sensor}, open_windows={self.open_windows!r}{closed})"

    def begin_window(self, name: str, sync: bool = True) -> None:
        """Start the window `name`. With `sync` (the default) a CUDA device is synchronised first,
        so work queued before the window is not counted in it."""
        self._check_usable(name)
        sync = true_or_false("sync", sync)  # "no" is true to Python
        if name in self._open:
            raise HwprofError(f"the energy window {name!r} is already open; end it first or give this one another name")
        if sync:
            self._synchronise()
        mark = None
        if self._sensor.available:
            try:
                mark = self._sensor.mark()
            except SensorUnavailable as lost:
                self._lose(lost)
        self._open[name] = (mark, time.perf_counter())

    def end_window(self, name: str, sync: bool = True) -> CodeEnergy:
        """End the window `name` and say what it cost. With `sync` (the default) a CUDA device is
        synchronised first, so the kernels launched inside the window are counted."""
        self._check_usable(name)
        sync = true_or_false("sync", sync)
        if name not in self._open:
            opened = ", ".join(repr(n) for n in self._open) or "none"
            raise HwprofError(f"no energy window {name!r} is open (open ones: {opened}); begin_window({name!r}) first")
        if sync:
            self._synchronise()
        mark, started = self._open.pop(name)
        cost = CodeEnergy(
            device=self.device,
            duration_s=time.perf_counter() - started,
            source=self._sensor.source,
            unavailable_reason=self._sensor.reason,
            name=name,
        )
        if mark is None or not self._sensor.available:  # no sensor, or lost since: its reason says why
            return cost
        try:
            window = self._sensor.window_since(mark)
        except SensorUnavailable as lost:
            cost.unavailable_reason = self._lose(lost)
            return cost
        cost.flags = list(window.flags)
        if window.energy_j is not None and "short_window" not in window.flags:
            measured_power(cost, window)
        else:
            cost.unavailable_reason = unmeasured_reason(
                self._sensor, window, f"the window lasted {cost.duration_s:.3f} s"
            )
        return cost

    def _lose(self, lost: SensorUnavailable) -> str:
        """A sensor that stopped mid-run (tegrastats exited, a GPU fell off the bus) ends energy for every
        window from here, with the reason, while the windows are still timed."""
        self._release.detach()  # closed here, once
        self._sensor = NoSensor.in_place_of(self._sensor, lost)
        return self._sensor.reason

    def _check_usable(self, name: object) -> None:
        if not isinstance(name, str):
            raise HwprofError(f"an energy window is named by a string, e.g. 'step', not {name!r}")
        self._check_open()

    def _check_open(self) -> None:
        if self._closed:
            raise HwprofError("this EnergyMonitor is closed (its sensor released, its windows dropped); make a new one")

    def _synchronise(self) -> None:
        if self._ref.kind == "cuda":
            import torch

            torch.cuda.synchronize(self._ref.index)

    def close(self) -> None:
        """Release the sensor; windows still open are dropped."""
        self._open.clear()
        self._closed = True
        self._release.detach()
        self._sensor.close()

    def __enter__(self) -> EnergyMonitor:
        self._check_open()  # a second `with` over a closed monitor would end with no sensor and no word until then
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def measured_power(cost, window) -> None:
    """A usable window's power, energy and spread into `cost` (a code block's or a command's: power_w,
    energy_j, power_spread, flags), with measure's rule: load_unstable where the mean hides a change of power."""
    cost.power_w = mean_power_w(window)
    cost.energy_j = cost.power_w * window.duration_s
    cost.power_spread = power_spread(window)
    if load_unstable(cost.power_spread):
        cost.flags.append("load_unstable")


def mean_power_w(window) -> float | None:
    """The window's mean power between the first and the last step of its counter where the counter moved
    inside it, else its energy over its duration. NVML's counter moves every 100 ms, 7 J a step at 70 W: its
    difference over a whole window is off by up to a step at each end, 5% of a 2 s window. The mean between
    steps, not measure's least-squares slope, which fits measure's steady load windows: a command busy at
    its start and idle after reads a quarter low by it."""
    if window.aligned_energy_j is not None and window.aligned_duration_s:
        return window.aligned_energy_j / window.aligned_duration_s
    return window.power_w


def unmeasured_reason(sensor, window, lasted: str, during: str = "the window") -> str:
    """Why a window the sensor read gave no honest energy; `lasted` says how long, e.g. "the command ran 2 s"."""
    if "short_window" in window.flags:  # a counter read over less than its minimum window is not honest
        return f"{lasted}, too short for {sensor.source} to measure (it needs at least {required_window_s(sensor):g} s)"
    return sensor.no_energy_reason(during)


@contextmanager
def energy_window(
    device: str = "cpu", power: str = "auto", tegrastats: str | os.PathLike | None = None
) -> Iterator[CodeEnergy]:
    """Time the block and read its energy from the sensor that covers `device` (cpu, cuda or cuda:N).

    On CUDA the device is synchronised before the window closes, so kernels the block launched are
    counted; a CUDA device torch cannot see is refused (HwprofError) before the block runs. A block
    that raises is timed, not measured: its reason says so, the sensor is closed and the error goes on."""
    with EnergyMonitor(device, power, tegrastats) as monitor:
        cost = CodeEnergy(device=monitor.device, source=monitor.source, unavailable_reason=monitor.unavailable_reason)
        monitor.begin_window("block", sync=False)
        started = time.perf_counter()
        try:
            yield cost
        except BaseException as error:
            cost.duration_s = time.perf_counter() - started  # how long it ran before it raised
            cost.unavailable_reason = f"the block raised {type(error).__name__} before it ended, so it was not measured"
            raise
        measured = monitor.end_window("block")
        for name in ("duration_s", "energy_j", "power_w", "flags", "power_spread", "unavailable_reason"):
            setattr(cost, name, getattr(measured, name))
