"""Power and energy sensors: NVML (NVIDIA GPUs), RAPL (CPUs), tegrastats/INA3221 (Jetson).

`open_sensor` is the one entry point the runner uses: it picks the sensor that
covers the measured device, or says in one sentence why there is none. hwprof
never guesses power: without a readable sensor the power columns stay null.
"""

from __future__ import annotations

import os

from hwprof.drivers.base import EnergyWindow, NoSensor, PowerSample, PowerSensor, SensorUnavailable
from hwprof.drivers.host import parse_device
from hwprof.errors import HwprofError, option, shown

POWER_KINDS = ("auto", "nvml", "rapl", "jetson", "none")

__all__ = ["EnergyWindow", "NoSensor", "POWER_KINDS", "PowerSample", "PowerSensor", "SensorUnavailable", "open_sensor"]


def _auto_kind(device: str, tegrastats: str | None) -> str:
    """A Jetson's rails where the board says it is one, or where --tegrastats PATH was given (the user's word:
    tried, and its failure is the reason); a tegrastats found on PATH or in the environment alone is not."""
    from hwprof.drivers.jetson import is_jetson

    if tegrastats or is_jetson():
        return "jetson"  # on a Jetson the rails cover the CPU and the integrated GPU alike
    return "nvml" if parse_device(device).kind == "cuda" else "rapl"


def _make_sensor(kind: str, device: str, tegrastats: str | None) -> PowerSensor:
    if kind == "nvml":
        if parse_device(device).kind != "cuda":
            raise SensorUnavailable(
                f"NVML measures NVIDIA GPUs, not '{device}'; measure the CPU with RAPL, or measure a GPU (cuda)"
            )
        from hwprof.drivers.nvml import NvmlSensor

        return NvmlSensor(device)
    if kind == "rapl":
        if device != "cpu":
            raise SensorUnavailable(f"RAPL measures the CPU package, not '{device}'; measure a GPU with NVML")
        from hwprof.drivers.rapl import RaplSensor

        return RaplSensor()
    from hwprof.drivers.jetson import open_jetson_sensor

    return open_jetson_sensor(tegrastats)


def check_tegrastats_read(power: str, tegrastats: str | os.PathLike | None) -> None:
    """A tegrastats path is read by the Jetson's sensor only: given with power none, rapl or nvml it would be
    dropped without a word, so it is refused (measure's command line asks before its worker processes start)."""
    if tegrastats is not None and power not in ("auto", "jetson"):
        raise HwprofError(
            f"{option('tegrastats', os.fspath(tegrastats))} names the program {option('power', 'jetson')} reads power "
            f"from, and {option('power', power)} does not read it: drop it, or give {option('power', 'jetson')} "
            "(or auto)"
        )


def open_sensor(power: str, device: str, tegrastats: str | None = None) -> PowerSensor | NoSensor:
    """The sensor that covers `device`, opened; else a NoSensor that says why and how to fix it.

    `power` is auto|nvml|rapl|jetson|none. With auto, a Jetson (or an explicit
    `tegrastats` path) uses its rails, cuda uses NVML and cpu uses RAPL; a
    missing sensor is a reason, not an error.
    A named kind that cannot be used raises HwprofError with that reason. The
    sensor comes back open (probed and polling), so its `source` and
    `metadata()` are final; calling `open()` again does nothing; the caller closes it.
    """
    if power not in POWER_KINDS:
        raise HwprofError(f"{option('power', power)} is unknown: choose one of {', '.join(POWER_KINDS)}")
    if not (tegrastats is None or isinstance(tegrastats, (str, os.PathLike))):
        raise HwprofError(f"{option('tegrastats', shown(tegrastats))}: give a path (str or os.PathLike), or None")
    check_tegrastats_read(power, tegrastats)
    parse_device(device)
    if power == "none":
        return NoSensor("power measurement was turned off")
    kind = _auto_kind(device, tegrastats) if power == "auto" else power
    try:
        sensor = _make_sensor(kind, device, tegrastats)
        sensor.open()
    except SensorUnavailable as unavailable:
        reason = str(unavailable)
        if power != "auto":
            raise HwprofError(f"{option('power', power)} cannot be used: {reason}") from None
        return NoSensor(reason)
    return sensor
