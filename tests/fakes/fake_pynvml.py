"""A stand-in for the pynvml module whose GPUs behave like real ones, on a simulated clock.

What real NVML does that a kind fake would not (each is a FakeGpu setting):
- power follows load with a rise time and a decay tail (first-order, `rise_s`, `decay_s`);
- the energy counter (mJ) and the fields only move every `update_s` (about 100 ms);
- `nvmlDeviceGetPowerUsage` is a moving average over `average_s` (1 s on Ampere and newer),
  while field 186 (NVML_FI_DEV_POWER_INSTANT) is the power at the last update;
- idle clocks are far below load clocks and stay up for `clock_hold_s` after the load;
  a load above the power limit is capped at it, with SwPowerCap set and lower clocks that the
  power controller moves up and down (`capped_sm_swing_mhz`);
- old drivers lack C symbols (`missing_symbols` raise FUNCTION_NOT_FOUND); some GPUs give
  field 186 only at module scope (Grace Hopper, `instant_scopes`);
- a GPU can be out of reach (`handle_error`: NO_PERMISSION from a cgroup) or lost
  (`query_error`: GPU_IS_LOST on every query);
- MIG mode with MIG device UUIDs; other processes on the GPU; every call takes `call_s`.

Work is simulated with `gpu.run_for(seconds)` (busy, then idle) on the shared clock.
Install with `monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(...))`.
"""

from __future__ import annotations

import math
import threading
import types
from dataclasses import dataclass, field

from fakes.sim_clock import SimClock

NVML_SUCCESS = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15

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
    "BoardLimit": 0x200,  # only in the throttle-reason names, as in nvidia-ml-py
    "Reliability": 0x400,
}
EVENT_REASON_NAMES = tuple(name for name in REASON_BITS if name not in ("BoardLimit", "Reliability"))


@dataclass
class FakeGpu:
    name: str = "NVIDIA Fake H100"
    uuid: str = "GPU-00000000-1111-2222-3333-444444444444"
    idle_w: float = 70.0
    load_w: float = 700.0  # what the work would draw without a limit
    power_limit_w: float = 700.0
    rise_s: float = 0.08  # time constant of the rise under load
    decay_s: float = 0.35  # time constant of the tail after the load
    update_s: float = 0.1  # the counter and the fields move this often
    update_phase_s: float = 0.037
    average_s: float = 1.0  # nvmlDeviceGetPowerUsage window; 0 = instantaneous (before Ampere)
    has_counter: bool = True
    instant_scopes: tuple = (0,)  # power scopes that answer field 186; () = no field 186
    instant_bias: float = 1.0  # multiply field 186, to make it disagree with the counter
    idle_sm_mhz: int = 345
    load_sm_mhz: int = 1980
    capped_sm_mhz: int = 1755
    capped_sm_swing_mhz: int = 0  # at the cap the SM clock moves this far up and down, update by update
    idle_mem_mhz: int = 405
    load_mem_mhz: int = 2619
    clock_hold_s: float = 0.3
    extra_reasons: int = 0  # reasons set on top of the simulated ones
    missing_symbols: tuple = ()  # NVML functions this (old) driver lacks
    handle_error: int | None = None  # opening a handle fails with this NVML error
    query_error: int | None = None  # every query on the handle fails with this NVML error
    mig_mode: int = 0
    mig_uuids: tuple = ()
    processes: list = field(default_factory=list)  # pids with a context on this GPU
    persistence_mode: int = 1
    applications_sm_mhz: int | None = None  # None: not supported (most GPUs since Volta)
    clock: SimClock | None = None  # set by make_fake_pynvml
    _segments: list = field(default_factory=list, repr=False)  # (t0, energy_mj, power_w at t0, target_w, tau_s)
    _busy: bool = False
    _idle_since_s: float = -math.inf
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def start(self, clock) -> None:
        self.clock = clock
        self._segments = [(clock.monotonic(), 1_000_000.0, self.idle_w, self.idle_w, 0.0)]

    # -- the physics -------------------------------------------------------------
    def _target_w(self) -> float:
        return min(self.load_w, self.power_limit_w) if self._busy else self.idle_w

    def _set_target(self, target_w: float) -> None:
        with self._lock:
            now = self.clock.monotonic()
            power_w = self.power_at(now)
            tau = self.rise_s if target_w > power_w else self.decay_s
            self._segments.append((now, self.energy_mj_at(now), power_w, target_w, tau))

    def _segment(self, t: float):
        for segment in reversed(self._segments):
            if segment[0] <= t:
                return segment
        return self._segments[0]

    def power_at(self, t: float) -> float:
        t0, _, p0, target, tau = self._segment(t)
        if tau <= 0:
            return target
        return target + (p0 - target) * math.exp(-(t - t0) / tau)

    def energy_mj_at(self, t: float) -> float:
        t0, e0, p0, target, tau = self._segment(t)
        dt = max(0.0, t - t0)
        tail = (p0 - target) * tau * (1 - math.exp(-dt / tau)) if tau > 0 else 0.0
        return e0 + 1000.0 * (target * dt + tail)

    def true_energy_j(self, start_s: float, stop_s: float) -> float:
        return (self.energy_mj_at(stop_s) - self.energy_mj_at(start_s)) / 1000.0

    def set_busy(self, busy: bool) -> None:
        with self._lock:
            if busy == self._busy:
                return
            self._busy = busy
            if not busy:
                self._idle_since_s = self.clock.monotonic()
            self._set_target(self._target_w())

    def run_for(self, seconds: float) -> None:
        """Work for `seconds` of the shared clock, then go idle (a synchronised CUDA call)."""
        self.set_busy(True)
        self.clock.sleep(seconds)
        self.set_busy(False)

    # -- what NVML shows ---------------------------------------------------------
    def last_update_s(self) -> float:
        now = self.clock.monotonic()
        return self.update_phase_s + math.floor((now - self.update_phase_s) / self.update_s) * self.update_s

    def counter_mj(self) -> int:
        with self._lock:
            return int(self.energy_mj_at(self.last_update_s()))

    def instant_mw(self) -> int:
        with self._lock:
            return int(self.power_at(self.last_update_s()) * self.instant_bias * 1000)

    def usage_mw(self) -> int:
        with self._lock:
            at = self.last_update_s()
            if self.average_s <= 0:
                return int(self.power_at(at) * 1000)
            return int((self.energy_mj_at(at) - self.energy_mj_at(at - self.average_s)) / self.average_s)

    def capped(self) -> bool:
        """The power controller holds the clocks down while the power is at the limit (also just after a load)."""
        return self.load_w >= self.power_limit_w and self.power_at(self.clock.monotonic()) >= 0.97 * self.power_limit_w

    def clocks_up(self) -> bool:
        return self._busy or self.clock.monotonic() - self._idle_since_s < self.clock_hold_s

    def sm_mhz(self) -> int:
        if not self.clocks_up():
            return self.idle_sm_mhz
        if not self.capped():
            return self.load_sm_mhz
        step = int(self.last_update_s() / self.update_s) % 2
        return self.capped_sm_mhz + (self.capped_sm_swing_mhz if step else -self.capped_sm_swing_mhz)

    def reasons(self) -> int:
        mask = self.extra_reasons
        if self.capped():
            mask |= REASON_BITS["SwPowerCap"]
        if not self._busy:
            mask |= REASON_BITS["GpuIdle"]
        return mask

    def temperature_c(self) -> int:
        with self._lock:
            return int(30 + (self.power_at(self.last_update_s()) - self.idle_w) / 15)


@dataclass
class MigHandle:
    """A MIG device: its own UUID, on a parent GPU."""

    parent: FakeGpu
    uuid: str


class _Value:
    def __init__(self, milliwatts: int):
        self.uiVal = milliwatts


class _FieldValue:
    def __init__(self, status: int, milliwatts: int = 0):
        self.nvmlReturn = status
        self.value = _Value(milliwatts)


class _Process:
    def __init__(self, pid: int):
        self.pid = pid
        self.usedGpuMemory = 512 * 2**20


def make_fake_pynvml(
    gpus: list[FakeGpu] | None = None,
    init_error: int | None = None,
    clock: SimClock | None = None,
    driver_version: str = "550.54.15",
    call_s: float = 0.0002,
) -> types.ModuleType:
    """A pynvml module over `gpus`, all on `clock` (a new SimClock by default); every call takes `call_s`."""
    module = types.ModuleType("pynvml")
    module.clock = clock or SimClock()
    module.gpus = gpus if gpus is not None else [FakeGpu()]
    for gpu in module.gpus:
        gpu.start(module.clock)
    module.init_count = 0
    module.calls = 0

    class NVMLError(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value

        def __str__(self):
            return {
                NVML_ERROR_NOT_SUPPORTED: "Not Supported",
                NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
                NVML_ERROR_FUNCTION_NOT_FOUND: "Function Not Found",
                NVML_ERROR_GPU_IS_LOST: "GPU is lost",
            }.get(self.value, f"NVML error {self.value}")

    def api(function_name, function):
        """Every call costs time, and fails as an old driver or a lost GPU would."""

        def call(*args):
            module.calls += 1
            module.clock.advance(call_s, quiet=True)
            target = args[0] if args else None
            gpu = target.parent if isinstance(target, MigHandle) else target
            if isinstance(gpu, FakeGpu):
                if function_name in gpu.missing_symbols:
                    raise NVMLError(NVML_ERROR_FUNCTION_NOT_FOUND)
                if gpu.query_error is not None:
                    raise NVMLError(gpu.query_error)
            return function(*args)

        return call

    def not_supported():
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)

    def nvmlInit():
        if init_error is not None:
            raise NVMLError(init_error)
        module.init_count += 1

    def nvmlShutdown():
        module.init_count -= 1

    def handle_by_index(index):
        if index >= len(module.gpus):
            raise NVMLError(2)  # INVALID_ARGUMENT
        gpu = module.gpus[index]
        if gpu.handle_error is not None:
            raise NVMLError(gpu.handle_error)
        return gpu

    def handle_by_uuid(uuid):
        uuid = uuid.decode() if isinstance(uuid, bytes) else uuid
        for gpu in module.gpus:
            if uuid == gpu.uuid:
                if gpu.handle_error is not None:
                    raise NVMLError(gpu.handle_error)
                return gpu
            if uuid in gpu.mig_uuids:
                return MigHandle(gpu, uuid)
        raise NVMLError(6)  # NOT_FOUND

    def only_gpu(function):
        """Queries a MIG device handle does not answer."""

        def call(handle, *args):
            return not_supported() if isinstance(handle, MigHandle) else function(handle, *args)

        return call

    def total_energy(gpu):
        return gpu.counter_mj() if gpu.has_counter else not_supported()

    def field_values(gpu, field_ids):
        values = []
        for field_id in field_ids:
            field_id, scope = field_id if isinstance(field_id, tuple) else (field_id, 0)
            if field_id != module.NVML_FI_DEV_POWER_INSTANT or scope not in gpu.instant_scopes:
                values.append(_FieldValue(NVML_ERROR_NOT_SUPPORTED))
            else:
                values.append(_FieldValue(NVML_SUCCESS, gpu.instant_mw()))
        return values

    def clock_info(gpu, clock_type):
        if clock_type == module.NVML_CLOCK_SM:
            return gpu.sm_mhz()
        return gpu.load_mem_mhz if gpu.clocks_up() else gpu.idle_mem_mhz

    def applications_clock(gpu, clock_type):
        if gpu.applications_sm_mhz is None:
            return not_supported()
        return gpu.applications_sm_mhz if clock_type == module.NVML_CLOCK_SM else gpu.load_mem_mhz

    def event_reasons(gpu):
        return gpu.reasons() & sum(REASON_BITS[name] for name in EVENT_REASON_NAMES)

    def mig_mode(gpu):
        if isinstance(gpu, MigHandle):
            return not_supported()
        return [gpu.mig_mode, gpu.mig_mode]

    def parent_of(handle):
        if not isinstance(handle, MigHandle):
            raise NVMLError(2)
        return handle.parent

    functions = {
        "nvmlDeviceGetCount": lambda: len(module.gpus),
        "nvmlDeviceGetHandleByIndex": handle_by_index,
        "nvmlDeviceGetHandleByUUID": handle_by_uuid,
        "nvmlDeviceGetIndex": only_gpu(lambda gpu: module.gpus.index(gpu)),
        "nvmlDeviceGetName": lambda handle: (handle.parent if isinstance(handle, MigHandle) else handle).name,
        "nvmlDeviceGetUUID": lambda handle: handle.uuid,
        "nvmlDeviceGetTotalEnergyConsumption": only_gpu(total_energy),
        "nvmlDeviceGetPowerUsage": only_gpu(lambda gpu: gpu.usage_mw()),
        "nvmlDeviceGetFieldValues": only_gpu(field_values),
        "nvmlDeviceGetClockInfo": only_gpu(clock_info),
        "nvmlDeviceGetApplicationsClock": only_gpu(applications_clock),
        "nvmlDeviceGetDefaultApplicationsClock": only_gpu(applications_clock),
        "nvmlDeviceGetTemperature": only_gpu(lambda gpu, sensor: gpu.temperature_c()),
        "nvmlDeviceGetPerformanceState": only_gpu(lambda gpu: 0 if gpu.clocks_up() else 8),
        "nvmlDeviceGetEnforcedPowerLimit": only_gpu(lambda gpu: int(gpu.power_limit_w * 1000)),
        "nvmlDeviceGetCurrentClocksEventReasons": only_gpu(event_reasons),
        "nvmlDeviceGetCurrentClocksThrottleReasons": only_gpu(lambda gpu: gpu.reasons()),
        "nvmlDeviceGetPersistenceMode": only_gpu(lambda gpu: gpu.persistence_mode),
        "nvmlDeviceGetMigMode": mig_mode,
        "nvmlDeviceIsMigDeviceHandle": lambda handle: int(isinstance(handle, MigHandle)),
        "nvmlDeviceGetDeviceHandleFromMigDeviceHandle": parent_of,
        "nvmlDeviceGetComputeRunningProcesses": only_gpu(lambda gpu: [_Process(pid) for pid in gpu.processes]),
        "nvmlSystemGetDriverVersion": lambda: driver_version,
    }
    names = {
        "NVMLError": NVMLError,
        "nvmlInit": nvmlInit,
        "nvmlShutdown": nvmlShutdown,
        **{name: api(name, function) for name, function in functions.items()},
        "NVML_SUCCESS": NVML_SUCCESS,
        "NVML_ERROR_NOT_SUPPORTED": NVML_ERROR_NOT_SUPPORTED,
        "NVML_ERROR_NO_PERMISSION": NVML_ERROR_NO_PERMISSION,
        "NVML_ERROR_DRIVER_NOT_LOADED": NVML_ERROR_DRIVER_NOT_LOADED,
        "NVML_ERROR_LIBRARY_NOT_FOUND": NVML_ERROR_LIBRARY_NOT_FOUND,
        "NVML_ERROR_FUNCTION_NOT_FOUND": NVML_ERROR_FUNCTION_NOT_FOUND,
        "NVML_ERROR_GPU_IS_LOST": NVML_ERROR_GPU_IS_LOST,
        "NVML_CLOCK_SM": 1,
        "NVML_CLOCK_MEM": 2,
        "NVML_TEMPERATURE_GPU": 0,
        "NVML_FI_DEV_POWER_INSTANT": 186,
        "NVML_POWER_SCOPE_GPU": 0,
        "NVML_POWER_SCOPE_MODULE": 1,
        "NVML_DEVICE_MIG_ENABLE": 1,
    }
    for reason in EVENT_REASON_NAMES:
        names[f"nvmlClocksEventReason{reason}"] = REASON_BITS[reason]
    for reason, bit in REASON_BITS.items():
        names[f"nvmlClocksThrottleReason{reason}"] = bit
    for attribute, value in names.items():
        setattr(module, attribute, value)
    return module


def install(monkeypatch, gpus: list, clock=None) -> types.ModuleType:
    """The fake as `pynvml` for a test, sensors on its clock, every GPU visible (no CUDA_VISIBLE_DEVICES)."""
    import sys

    from hwprof.drivers import base

    module = make_fake_pynvml(gpus, clock=clock or SimClock())
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setattr(base, "REAL_CLOCK", module.clock)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return module


def flat_gpu(monkeypatch, watts: float = 70.0) -> FakeGpu:
    """One fake GPU at a flat `watts`, installed as NVML, with measure's CUDA lookup stubbed out (no CUDA here):
    what tests of energy windows read through NVML start from."""
    gpu = FakeGpu(idle_w=watts)
    install(monkeypatch, [gpu])
    monkeypatch.setattr("hwprof.measuring.session.resolve_device", lambda device: None)
    return gpu
