"""NVIDIA GPU energy through NVML (nvidia-ml-py, imported as pynvml).

The primary source is the total-energy counter (mJ since driver load, Volta
and newer). The secondary source is the instantaneous power field
(NVML_FI_DEV_POWER_INSTANT, mW), sampled in the background; the two are
cross-checked in every window. `nvmlDeviceGetPowerUsage` is a one-second
average on Ampere and newer, so it is used only where the instantaneous field
is missing, and then never as energy. Clocks, temperature, power limit,
P-state and clock-event (throttle) reasons are read with every sample.
"""

from __future__ import annotations

import os
import sys

from hwprof.drivers.base import PowerSample, PowerSensor, SensorUnavailable, probe_update_period
from hwprof.drivers.host import parse_device

NOMINAL_UPDATE_PERIOD_S = 0.1
MIN_WINDOW_S = 0.5
POLL_INTERVAL_S = 0.025
CROSS_CHECK_TOLERANCE = 0.05  # counter vs integrated instantaneous power, per window
CLOCK_SPREAD_TOLERANCE = 0.02  # SM/memory clock range within one window before it counts as a change

# Clock-event reasons that are not throttling: idle, application clocks, display.
BENIGN_REASON_NAMES = ("GpuIdle", "ApplicationsClocksSetting", "DisplayClockSetting")
REASON_NAMES = (
    "GpuIdle",
    "ApplicationsClocksSetting",
    "SwPowerCap",
    "HwSlowdown",
    "SyncBoost",
    "SwThermalSlowdown",
    "HwThermalSlowdown",
    "HwPowerBrakeSlowdown",
    "DisplayClockSetting",
)


def load_pynvml():
    """The pynvml module, initialised; SensorUnavailable with the fix when that fails."""
    try:
        import pynvml
    except ImportError:
        raise SensorUnavailable("the NVML bindings are not installed; run `pip install nvidia-ml-py`") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        raise SensorUnavailable(init_failure_reason(pynvml, error)) from None
    return pynvml


def init_failure_reason(pynvml, error) -> str:
    code = getattr(error, "value", None)
    if code == pynvml.NVML_ERROR_LIBRARY_NOT_FOUND:
        return (
            "NVML (libnvidia-ml.so.1) is not found, so there is no NVIDIA driver here; install the NVIDIA "
            "driver, or in a container run with the NVIDIA container toolkit (`--gpus all`)"
        )
    if code == pynvml.NVML_ERROR_DRIVER_NOT_LOADED:
        return "the NVIDIA kernel driver is not loaded; load it (`sudo modprobe nvidia`) or reboot after installing it"
    if code == pynvml.NVML_ERROR_NO_PERMISSION:
        return (
            "NVML refused access to the GPU; run hwprof as a user with access to /dev/nvidia* (e.g. in the video group)"
        )
    return f"NVML failed to start ({error}); check the NVIDIA driver with `nvidia-smi`"


def _call(pynvml, function, *args):
    """An NVML query that may be unsupported on this GPU: its value, or None."""
    try:
        return function(*args)
    except pynvml.NVMLError:
        return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _visible_selector(cuda_index: int) -> tuple[int | str, str]:
    """What CUDA_VISIBLE_DEVICES makes of cuda:N: an NVML index or a UUID prefix, and how it was found."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return cuda_index, "cuda index taken as NVML index (PCI bus order)"
    entries = []
    for entry in (e.strip() for e in visible.split(",")):
        if not entry or not (entry.isdigit() or entry.startswith(("GPU-", "MIG-"))):
            break  # CUDA ignores the list from the first entry it cannot parse
        entries.append(entry)
    if cuda_index >= len(entries):
        raise SensorUnavailable(
            f"cuda:{cuda_index} is not visible: CUDA_VISIBLE_DEVICES='{visible}' exposes "
            f"{len(entries)} device(s); pick an index below {len(entries)} or change the variable"
        )
    entry = entries[cuda_index]
    if entry.startswith("MIG-"):
        raise SensorUnavailable(
            f"cuda:{cuda_index} is the MIG instance {entry}, and NVML's energy counter covers "
            "the whole GPU, not one instance; measure on the full GPU to get power"
        )
    if entry.isdigit():
        return int(entry), f"CUDA_VISIBLE_DEVICES entry {cuda_index} = NVML index {entry} (PCI bus order)"
    return entry, f"CUDA_VISIBLE_DEVICES entry {cuda_index} = {entry}"


def _torch_uuid(cuda_index: int) -> str | None:
    """The UUID CUDA itself gives cuda:N, when torch is already loaded with CUDA (exact, any ordering)."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available() and cuda_index < torch.cuda.device_count():
            return str(torch.cuda.get_device_properties(cuda_index).uuid)
    except Exception:  # an old torch without .uuid, or CUDA not initialisable
        return None
    return None


def resolve_handle(pynvml, device: str):
    """(nvml_index, handle, how) for a torch device string, honouring CUDA_VISIBLE_DEVICES."""
    ref = parse_device(device)
    if ref.kind != "cuda":
        raise SensorUnavailable(f"'{device}' is not a CUDA device; write cuda or cuda:N")
    cuda_index = ref.index
    count = pynvml.nvmlDeviceGetCount()
    uuids = [_text(pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(i))) for i in range(count)]
    torch_uuid = _torch_uuid(cuda_index)
    if torch_uuid:
        for i, uuid in enumerate(uuids):
            if uuid.removeprefix("GPU-") == torch_uuid.removeprefix("GPU-"):
                return i, pynvml.nvmlDeviceGetHandleByIndex(i), "matched by UUID reported by CUDA"
    selector, how = _visible_selector(cuda_index)
    if isinstance(selector, str):
        matches = [i for i, uuid in enumerate(uuids) if uuid.startswith(selector)]
        if len(matches) != 1:
            raise SensorUnavailable(
                f"CUDA_VISIBLE_DEVICES names {selector}, which matches {len(matches)} of the "
                f"{count} GPUs NVML sees; list them with `nvidia-smi -L`"
            )
        selector = matches[0]
    if selector >= count:
        raise SensorUnavailable(
            f"{device} maps to NVML GPU {selector} but NVML sees only {count} GPU(s); list them with `nvidia-smi -L`"
        )
    return selector, pynvml.nvmlDeviceGetHandleByIndex(selector), how


def _read_instant_power_mw(pynvml, handle) -> int | None:
    try:
        values = pynvml.nvmlDeviceGetFieldValues(handle, [pynvml.NVML_FI_DEV_POWER_INSTANT])
    except pynvml.NVMLError:
        return None
    if values[0].nvmlReturn != pynvml.NVML_SUCCESS:
        return None
    return values[0].value.uiVal


def describe_gpu(pynvml, index: int) -> dict:
    """One GPU as `hwprof devices` shows it: what it is and which power sources it has."""
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    counter = _call(pynvml, pynvml.nvmlDeviceGetTotalEnergyConsumption, handle)
    instant = _read_instant_power_mw(pynvml, handle)
    usage = _call(pynvml, pynvml.nvmlDeviceGetPowerUsage, handle)
    info = {
        "nvml_index": index,
        "name": _text(pynvml.nvmlDeviceGetName(handle)),
        "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
        "energy_counter": counter is not None,
        "power_field": "power_instant" if instant is not None else ("power_usage" if usage is not None else None),
    }
    if counter is None and usage is None and instant is None:
        info["reason"] = (
            f"GPU {index} reports neither an energy counter nor power through NVML (some "
            "consumer and virtual GPUs do not); power cannot be measured on it"
        )
    return info


def reason_names(pynvml, mask: int) -> list[str]:
    names = []
    for name in REASON_NAMES:
        bit = getattr(pynvml, f"nvmlClocksEventReason{name}", None)
        if bit is None:
            bit = getattr(pynvml, f"nvmlClocksThrottleReason{name}", 0)
        if bit and mask & bit:
            names.append(name)
    return names


class NvmlSensor(PowerSensor):
    """Energy of one NVIDIA GPU: counter first, instantaneous samples as the cross-check."""

    min_window_s = MIN_WINDOW_S
    poll_interval_s = POLL_INTERVAL_S

    def __init__(self, device: str = "cuda") -> None:
        super().__init__()
        self._pynvml = load_pynvml()
        pynvml = self._pynvml
        try:
            self.index, self._handle, self.mapping = resolve_handle(pynvml, device)
        except SensorUnavailable:
            pynvml.nvmlShutdown()
            raise
        self.device = device
        self.name = _text(pynvml.nvmlDeviceGetName(self._handle))
        self.uuid = _text(pynvml.nvmlDeviceGetUUID(self._handle))
        self.has_counter = _call(pynvml, pynvml.nvmlDeviceGetTotalEnergyConsumption, self._handle) is not None
        if _read_instant_power_mw(pynvml, self._handle) is not None:
            self.power_field, self.samples_are_instantaneous = "power_instant", True
        elif _call(pynvml, pynvml.nvmlDeviceGetPowerUsage, self._handle) is not None:
            # Instantaneous before Ampere, a 1 s average from Ampere on: trusted as energy only without a counter.
            self.power_field, self.samples_are_instantaneous = "power_usage", not self.has_counter
        else:
            self.power_field = None
        if not self.has_counter and not self.samples_are_instantaneous:
            pynvml.nvmlShutdown()
            raise SensorUnavailable(
                f"GPU {self.index} ({self.name}) has no NVML energy counter and no "
                "instantaneous power reading, so its energy cannot be measured"
            )
        self.primary_sensor = f"nvml:{self.index}:{self.power_field}"
        self.source = f"nvml:{self.index}:total_energy" if self.has_counter else self.primary_sensor
        self.update_period_probed = False
        self.power_limit_w = self._power_limit_w()

    def _power_limit_w(self) -> float | None:
        limit_mw = _call(self._pynvml, self._pynvml.nvmlDeviceGetEnforcedPowerLimit, self._handle)
        return limit_mw / 1000 if limit_mw is not None else None

    def _open_hardware(self) -> None:
        read = self._read_energy_j if self.has_counter else self._read_power_w
        self.update_period_s, self.update_period_probed = probe_update_period(
            read, max_probe_s=1.0, nominal_s=NOMINAL_UPDATE_PERIOD_S
        )

    def _close_hardware(self) -> None:
        if self._handle is not None:
            self._pynvml.nvmlShutdown()
            self._handle = None

    def _read_energy_j(self) -> float | None:
        if not self.has_counter:
            return None
        return self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0

    def _read_power_w(self) -> float | None:
        if self.power_field == "power_instant":
            milliwatts = _read_instant_power_mw(self._pynvml, self._handle)
        elif self.power_field == "power_usage":
            milliwatts = _call(self._pynvml, self._pynvml.nvmlDeviceGetPowerUsage, self._handle)
        else:
            milliwatts = None
        return milliwatts / 1000.0 if milliwatts is not None else None

    def _poll_samples(self, now: float) -> list[PowerSample]:
        power_w = self._read_power_w()
        return [] if power_w is None else [PowerSample(now, self.primary_sensor, power_w)]

    def _read_state(self) -> dict:
        pynvml, handle = self._pynvml, self._handle
        reasons_function = (
            getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
            or pynvml.nvmlDeviceGetCurrentClocksThrottleReasons
        )
        return {
            "sm_clock_mhz": _call(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_SM),
            "mem_clock_mhz": _call(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_MEM),
            "temperature_c": _call(pynvml, pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU),
            "pstate": _call(pynvml, pynvml.nvmlDeviceGetPerformanceState, handle),
            "clock_event_reasons": _call(pynvml, reasons_function, handle),
        }

    def clock_key(self) -> tuple:
        pynvml = self._pynvml
        return (
            self._power_limit_w(),
            _call(pynvml, pynvml.nvmlDeviceGetApplicationsClock, self._handle, pynvml.NVML_CLOCK_SM),
            _call(pynvml, pynvml.nvmlDeviceGetApplicationsClock, self._handle, pynvml.NVML_CLOCK_MEM),
        )

    def _summarise_window(self, window, states: list[dict]) -> None:
        def values(key):
            return [s[key] for s in states if s.get(key) is not None]

        for key in ("sm_clock_mhz", "mem_clock_mhz"):
            seen = values(key)
            if seen:
                window.metadata[f"{key}_min"], window.metadata[f"{key}_max"] = min(seen), max(seen)
                if max(seen) - min(seen) > CLOCK_SPREAD_TOLERANCE * max(seen):
                    window.clocks_changed = True
        temperatures = values("temperature_c")
        if temperatures:
            window.metadata["temperature_c_start"] = temperatures[0]
            window.metadata["temperature_c_max"] = max(temperatures)
        pstates = sorted(set(values("pstate")))
        if pstates:
            window.metadata["pstates"] = pstates
        mask = 0
        for reasons in values("clock_event_reasons"):
            mask |= reasons
        names = reason_names(self._pynvml, mask)
        window.metadata["clock_event_reasons"] = names
        window.throttled = any(name not in BENIGN_REASON_NAMES for name in names)
        window.metadata["power_limit_w"] = self.power_limit_w
        self._cross_check(window)

    def _cross_check(self, window) -> None:
        """Counter energy against the integral of instantaneous samples, in every window."""
        counter, sampled = window.counter_energy_j, window.sampled_energy_j
        if not (self.has_counter and self.samples_are_instantaneous and counter and sampled):
            return
        disagreement = abs(sampled - counter) / counter
        window.metadata["counter_vs_samples"] = round(disagreement, 4)
        if disagreement > CROSS_CHECK_TOLERANCE and "short_window" not in window.flags:
            window.flags.append("counter_vs_samples_disagree")

    def metadata(self) -> dict:
        return {
            "driver": "nvml",
            "source": self.source,
            "gpu": self.name,
            "uuid": self.uuid,
            "nvml_index": self.index,
            "device": self.device,
            "device_mapping": self.mapping,
            "energy_counter": self.has_counter,
            "power_field": self.power_field,
            "power_samples_instantaneous": self.samples_are_instantaneous,
            "power_limit_w": self.power_limit_w,
            "update_period_s": self.update_period_s,
            "update_period_probed": self.update_period_probed,
            "poll_interval_s": self.poll_interval_s,
            "min_window_s": self.min_window_s,
        }
