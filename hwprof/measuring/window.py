"""The energy of any block of code: `with hwprof.energy_window(device="cpu") as cost: ...`.

For a training step, a data loader or a whole script, where `measure`'s repeated,
calibrated windows do not apply. The same honesty rules hold: the sensor that
covers the device (or the one asked for) is read around the block; without one,
or when the block was too short for the sensor to measure, the energy stays None
and the reason says why. Nothing is estimated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hwprof.drivers import open_sensor
from hwprof.drivers.host import parse_device
from hwprof.measuring.energy import required_window_s


@dataclass
class CodeEnergy:
    """What a block cost. Filled in when the block ends; None where nothing was measured."""

    device: str
    duration_s: float | None = None
    energy_j: float | None = None
    power_w: float | None = None  # mean power over the block
    source: str | None = None  # the sensor, e.g. rapl:package-0 or nvml:0:total_energy
    flags: list[str] = field(default_factory=list)  # e.g. short_window, clocks_changed, throttled
    unavailable_reason: str | None = None  # why energy_j is None


@contextmanager
def energy_window(device: str = "cpu", power: str = "auto", tegrastats: str | None = None) -> Iterator[CodeEnergy]:
    """Time the block and read its energy from the sensor that covers `device` (cpu, cuda or cuda:N).

    On CUDA the device is synchronised before the window closes, so kernels the block launched are
    counted. A block that raises is not measured: the sensor is closed and the error goes on."""
    ref = parse_device(device)
    sensor = open_sensor(power, str(ref), tegrastats)
    cost = CodeEnergy(device=str(ref), source=sensor.source, unavailable_reason=sensor.reason)
    try:
        if sensor.available:
            sensor.start_window()
        started = time.perf_counter()
        yield cost
        if ref.kind == "cuda":
            import torch

            torch.cuda.synchronize(ref.index)
        cost.duration_s = time.perf_counter() - started
        if sensor.available:
            window = sensor.stop_window()
            cost.flags = list(window.flags)
            if window.energy_j is not None and "short_window" not in window.flags:
                cost.energy_j, cost.power_w = window.energy_j, window.power_w
            else:  # a counter read over less than its minimum window gives a number, but not an honest one
                cost.unavailable_reason = (
                    f"the block lasted {cost.duration_s:.3f} s, too short for {sensor.source} to measure "
                    f"(it needs at least {required_window_s(sensor):g} s)"
                )
    finally:
        sensor.close()
