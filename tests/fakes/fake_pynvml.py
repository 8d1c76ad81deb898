"""A stand-in for the pynvml module: GPUs whose energy counter rises at a settable wattage.

Only the calls hwprof makes exist. The counter is in mJ and, like the real one,
only moves every `counter_update_s`; the instantaneous power field is in mW.
Install with `monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(...))`.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
import types
from dataclasses import dataclass, field

NVML_SUCCESS = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12

REASON_BITS = {
    "GpuIdle": 0x1,
    "ApplicationsClocksSetting": 0x2,
    "SwPowerCap": 0x4,
    "HwSlowdown": 0x8,
    "SyncBoost": 0x10,
    "SwThermalSlowdown": 0x20,
    "HwThermalSlowdown": 0x40,
    "HwPowerBrakeSlowdown": 0x80,
    "DisplayClockSetting": 0x100,
}


@dataclass
class FakeGpu:
    name: str = "NVIDIA Fake A100"
    uuid: str = "GPU-00000000-1111-2222-3333-444444444444"
    power_w: float = 60.0
    counter_update_s: float = 0.02
    has_counter: bool = True
    has_instant: bool = True
    instant_bias: float = 1.0  # multiply the instantaneous field, to make it disagree with the counter
    sm_clock_mhz: int = 1410
    mem_clock_mhz: int = 1215
    clock_event_reasons: int = 0
    power_limit_mw: int = 400_000
    _segments: list = field(default_factory=list, repr=False)  # (t, energy_mj_at_t, power_w)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self._t0 = time.monotonic()
        self._segments.append((self._t0, 1_000_000.0, self.power_w))

    def set_power(self, watts: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._segments.append((now, self._energy_at(now), watts))
            self.power_w = watts

    def _energy_at(self, t: float) -> float:
        index = bisect.bisect_right([s[0] for s in self._segments], t) - 1
        start, energy_mj, watts = self._segments[max(index, 0)]
        return energy_mj + watts * (t - start) * 1000.0

    def counter_mj(self) -> int:
        with self._lock:
            now = time.monotonic()
            steps = math.floor((now - self._t0) / self.counter_update_s)
            return int(self._energy_at(self._t0 + steps * self.counter_update_s))


class _Value:
    def __init__(self, milliwatts: int):
        self.uiVal = milliwatts


class _FieldValue:
    def __init__(self, status: int, milliwatts: int = 0):
        self.nvmlReturn = status
        self.value = _Value(milliwatts)


def make_fake_pynvml(gpus: list[FakeGpu] | None = None, init_error: int | None = None) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    module.gpus = gpus if gpus is not None else [FakeGpu()]
    module.init_count = 0

    class NVMLError(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value

        def __str__(self):
            return f"NVML error {self.value}"

    def not_supported():
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)

    def nvmlInit():
        if init_error is not None:
            raise NVMLError(init_error)
        module.init_count += 1

    def nvmlShutdown():
        module.init_count -= 1

    def handle(index):
        return module.gpus[index]

    def total_energy(gpu):
        return gpu.counter_mj() if gpu.has_counter else not_supported()

    def field_values(gpu, field_ids):
        assert field_ids == [module.NVML_FI_DEV_POWER_INSTANT]
        if not gpu.has_instant:
            return [_FieldValue(NVML_ERROR_NOT_SUPPORTED)]
        return [_FieldValue(NVML_SUCCESS, int(gpu.power_w * gpu.instant_bias * 1000))]

    def clock_info(gpu, clock_type):
        return gpu.sm_clock_mhz if clock_type == module.NVML_CLOCK_SM else gpu.mem_clock_mhz

    names = {
        "NVMLError": NVMLError,
        "nvmlInit": nvmlInit,
        "nvmlShutdown": nvmlShutdown,
        "nvmlDeviceGetCount": lambda: len(module.gpus),
        "nvmlDeviceGetHandleByIndex": handle,
        "nvmlDeviceGetName": lambda gpu: gpu.name,
        "nvmlDeviceGetUUID": lambda gpu: gpu.uuid,
        "nvmlDeviceGetTotalEnergyConsumption": total_energy,
        "nvmlDeviceGetPowerUsage": lambda gpu: int(gpu.power_w * 1000),
        "nvmlDeviceGetFieldValues": field_values,
        "nvmlDeviceGetClockInfo": clock_info,
        "nvmlDeviceGetApplicationsClock": lambda gpu, clock_type: not_supported(),
        "nvmlDeviceGetTemperature": lambda gpu, sensor: 45,
        "nvmlDeviceGetPerformanceState": lambda gpu: 0,
        "nvmlDeviceGetEnforcedPowerLimit": lambda gpu: gpu.power_limit_mw,
        "nvmlDeviceGetCurrentClocksEventReasons": lambda gpu: gpu.clock_event_reasons,
        "nvmlSystemGetDriverVersion": lambda: "999.99",
        "NVML_SUCCESS": NVML_SUCCESS,
        "NVML_ERROR_NOT_SUPPORTED": NVML_ERROR_NOT_SUPPORTED,
        "NVML_ERROR_NO_PERMISSION": NVML_ERROR_NO_PERMISSION,
        "NVML_ERROR_DRIVER_NOT_LOADED": NVML_ERROR_DRIVER_NOT_LOADED,
        "NVML_ERROR_LIBRARY_NOT_FOUND": NVML_ERROR_LIBRARY_NOT_FOUND,
        "NVML_CLOCK_SM": 1,
        "NVML_CLOCK_MEM": 2,
        "NVML_TEMPERATURE_GPU": 0,
        "NVML_FI_DEV_POWER_INSTANT": 186,
    }
    for reason, bit in REASON_BITS.items():
        names[f"nvmlClocksEventReason{reason}"] = bit
    for attribute, value in names.items():
        setattr(module, attribute, value)
    return module
