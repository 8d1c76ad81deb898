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
import platform
import sys

from hwprof.drivers.base import Clock, PowerSample, PowerSensor, SensorUnavailable, probe_update_period
from hwprof.drivers.host import is_jetson, parse_device

NOMINAL_UPDATE_PERIOD_S = 0.1
MIN_WINDOW_S = 0.5
POLL_INTERVAL_S = 0.01  # inside windows only: counter steps are seen at most this late
CROSS_CHECK_TOLERANCE = 0.05  # counter vs integrated instantaneous power, per window
CLOCK_SPREAD_TOLERANCE = 0.02  # SM/memory clock range within one window before it counts as a change
NVML_ERROR_FUNCTION_NOT_FOUND = 13  # a C symbol the installed driver lacks (older than the bindings)
RESPONSE_S = 1.0  # a GPU's power rises and decays over hundreds of ms after a load step
POWER_SCOPE_MODULE = 1  # NVML_POWER_SCOPE_MODULE: where Grace Hopper answers field 186

# Clock-event reasons that are not throttling: idle, application or locked clocks, display, and the
# power cap, which is the normal steady state of a GPU under heavy load (recorded, never a flag).
BENIGN_REASON_NAMES = ("GpuIdle", "ApplicationsClocksSetting", "DisplayClockSetting", "SwPowerCap")
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
    "BoardLimit",
    "Reliability",
)
PSTATE_UNKNOWN = 32  # NVML_PSTATE_UNKNOWN
UPGRADE_BINDINGS = "pip uninstall pynvml && pip install -U nvidia-ml-py"
# What the driver reads from the bindings unguarded. The deprecated `pynvml` package (up to 11.5) installs a
# pynvml/ folder that shadows nvidia-ml-py's pynvml.py; it has all of these but not the instantaneous power field,
# which is read only where the bindings define it.
REQUIRED_BINDINGS = (
    "NVMLError",
    "nvmlInit",
    "nvmlShutdown",
    "nvmlDeviceGetCount",
    "nvmlDeviceGetHandleByIndex",
    "nvmlDeviceGetHandleByUUID",
    "nvmlDeviceGetIndex",
    "nvmlDeviceGetName",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetTotalEnergyConsumption",
    "nvmlDeviceGetPowerUsage",
    "nvmlDeviceGetFieldValues",
    "nvmlDeviceIsMigDeviceHandle",
    "nvmlDeviceGetMigMode",
    "nvmlDeviceGetClockInfo",
    "nvmlDeviceGetApplicationsClock",
    "nvmlDeviceGetDefaultApplicationsClock",
    "nvmlDeviceGetTemperature",
    "nvmlDeviceGetPerformanceState",
    "nvmlDeviceGetEnforcedPowerLimit",
    "nvmlDeviceGetComputeRunningProcesses",
    "nvmlDeviceGetPersistenceMode",
    "nvmlSystemGetDriverVersion",
    "NVML_SUCCESS",
    "NVML_CLOCK_SM",
    "NVML_CLOCK_MEM",
    "NVML_TEMPERATURE_GPU",
    "NVML_ERROR_LIBRARY_NOT_FOUND",
    "NVML_ERROR_DRIVER_NOT_LOADED",
    "NVML_ERROR_NO_PERMISSION",
)


def load_pynvml():
    """The pynvml module, initialised; SensorUnavailable with the fix when that fails."""
    try:
        import pynvml
    except ImportError:
        raise SensorUnavailable("the NVML bindings are not installed; run `pip install nvidia-ml-py`") from None
    missing = [name for name in REQUIRED_BINDINGS if not hasattr(pynvml, name)]
    if missing:
        raise SensorUnavailable(bindings_too_old(pynvml, f"lack {', '.join(missing)}", "NVML cannot be read"))
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        raise SensorUnavailable(init_failure_reason(pynvml, error)) from None
    return pynvml


def bindings_too_old(pynvml, lacking: str, so: str) -> str:
    """One sentence naming the installed bindings, what they lack and what follows, and how to replace them."""
    version, path = getattr(pynvml, "__version__", None), getattr(pynvml, "__file__", None)
    which = " ".join(filter(None, ("pynvml", version, path and f"at {path}")))
    return f"the installed NVML bindings ({which}) are too old: they {lacking}, so {so}; run `{UPGRADE_BINDINGS}`"


def old_bindings_note(pynvml) -> str | None:
    """Why the instantaneous power field is not read, where the bindings predate it; None where they have it."""
    if hasattr(pynvml, "NVML_FI_DEV_POWER_INSTANT"):
        return None
    return bindings_too_old(
        pynvml,
        "lack NVML_FI_DEV_POWER_INSTANT",
        "instantaneous power is not read (nvmlDeviceGetPowerUsage stands in)",
    )


def init_failure_reason(pynvml, error) -> str:
    """Why NVML did not start, in one sentence with the fix; a missing library means no driver only where an
    NVIDIA driver would ship it: a Jetson's integrated GPU has none, and macOS has no NVIDIA driver. On Windows
    the driver ships nvml.dll, and neither `modprobe` nor the container toolkit is the fix."""
    code = getattr(error, "value", None)
    if code == pynvml.NVML_ERROR_LIBRARY_NOT_FOUND:
        if is_jetson():
            return (
                "NVML (libnvidia-ml.so.1) does not exist on a Jetson, whose integrated GPU it does not manage; "
                "measure the board's power rails with --power jetson"
            )
        if platform.system() == "Darwin":
            return "NVML is not found: macOS has no NVIDIA GPU driver, so there is no NVIDIA GPU to measure here"
        if sys.platform == "win32":
            return (
                "NVML (nvml.dll, which the NVIDIA driver puts in C:\\Windows\\System32) is not found, so there is no "
                "NVIDIA driver here; install or update the NVIDIA driver"
            )
        return (
            "NVML (libnvidia-ml.so.1) is not found, so there is no NVIDIA driver here; install the NVIDIA "
            "driver, or in a container run with the NVIDIA container toolkit (`--gpus all`)"
        )
    if code == pynvml.NVML_ERROR_DRIVER_NOT_LOADED and sys.platform == "win32":
        return "the NVIDIA driver is not running; install or update the NVIDIA driver, then restart Windows"
    if code == pynvml.NVML_ERROR_DRIVER_NOT_LOADED:
        return "the NVIDIA kernel driver is not loaded; load it (`sudo modprobe nvidia`) or reboot after installing it"
    if code == pynvml.NVML_ERROR_NO_PERMISSION:
        return (
            "NVML refused access to the GPU; run hwprof as a user with access to /dev/nvidia* (e.g. in the video group)"
        )
    if code == getattr(pynvml, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", 18):
        return (
            f"NVML failed to start ({error}): the NVIDIA driver was upgraded without reloading its kernel module, "
            "so the library and the module running differ; reboot, or reload the nvidia kernel modules"
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


def error_reason(pynvml, error, what: str) -> str:
    """Any NVML error on one GPU as '<what> is unavailable, because ...' with what to do about it."""
    code = getattr(error, "value", None)
    if code == pynvml.NVML_ERROR_NO_PERMISSION:
        why = "this job may not access it (a cgroup or Slurm allocation hides it); measure a GPU allocated to this job"
    elif code == getattr(pynvml, "NVML_ERROR_GPU_IS_LOST", 15):
        why = "the GPU is lost (fell off the bus or its driver state is gone); check `nvidia-smi` and the kernel log"
    else:
        why = "check it with `nvidia-smi`"
    return f"{what} is unavailable, because NVML answered '{error}'; {why}"


def _visible_entries(pynvml) -> list[str] | None:
    """The CUDA_VISIBLE_DEVICES entries CUDA takes, cuda:0 first; None where the variable is unset. CUDA reads the
    list up to its first entry that it cannot parse or that names no device, an index past the GPUs or a UUID no
    GPU has: "If an invalid index is encountered, only devices with indices that appear before the invalid index
    in the list are visible" (CUDA Programming Guide, CUDA Environment Variables, CUDA_VISIBLE_DEVICES), so with 4
    GPUs 1,7,2 exposes GPU 1 alone. The sensor's mapping and the devices listing both read the list so."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return None
    count = pynvml.nvmlDeviceGetCount()
    entries = []
    for entry in (e.strip() for e in visible.split(",")):
        if not entry or not (entry.isdigit() or entry.startswith(("GPU-", "MIG-"))):
            break
        if (entry.isdigit() and int(entry) >= count) or (entry.startswith("GPU-") and _names_no_gpu(pynvml, entry)):
            break
        entries.append(entry)
    return entries


def _names_no_gpu(pynvml, prefix: str) -> bool:
    """Whether no GPU's UUID starts with `prefix`, every GPU read; a GPU this process may not open might be the one
    meant, so then the entry is kept, and _handle_by_uuid_prefix names the GPU that refused."""
    for index in range(pynvml.nvmlDeviceGetCount()):
        try:
            if _text(pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(index))).startswith(prefix):
                return False
        except pynvml.NVMLError:
            return False
    return True


def _visible_selector(pynvml, cuda_index: int) -> tuple[int | str, str]:
    """What CUDA_VISIBLE_DEVICES makes of cuda:N: an NVML index or a UUID prefix, and how it was found."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    entries = _visible_entries(pynvml)
    if entries is None:
        return cuda_index, (
            "cuda index taken as NVML index (PCI bus order; CUDA orders fastest first unless "
            "CUDA_DEVICE_ORDER=PCI_BUS_ID, so this is certain only with one GPU or that setting)"
        )
    if cuda_index >= len(entries):
        raise SensorUnavailable(
            f"cuda:{cuda_index} is not visible: CUDA_VISIBLE_DEVICES='{visible}' exposes "
            f"{len(entries)} device(s){_where_cuda_stops(pynvml, visible, len(entries))}; pick an index below {len(entries)} or change the variable"
        )
    entry = entries[cuda_index]
    if entry.startswith("MIG-"):
        raise SensorUnavailable(
            f"cuda:{cuda_index} is the MIG instance {entry}, and NVML's energy counter covers "
            "the whole GPU, not one instance; measure on the full GPU to get power"
        )
    if entry.isdigit():
        return int(entry), f"CUDA_VISIBLE_DEVICES entry {cuda_index} = NVML index {entry} (assumes PCI bus order)"
    return entry, f"CUDA_VISIBLE_DEVICES entry {cuda_index} = {entry}"


def _where_cuda_stops(pynvml, visible: str, taken: int) -> str:
    """Why CUDA reads no further than `taken` entries of CUDA_VISIBLE_DEVICES, as " (CUDA stops reading it at
    '7', ...)"; empty where it reads them all or the variable is empty."""
    listed = [entry.strip() for entry in visible.split(",")]
    if not visible.strip() or taken >= len(listed):
        return ""
    entry, count = listed[taken], pynvml.nvmlDeviceGetCount()
    if entry.startswith("GPU-"):
        why = f"which matches 0 of the {count} GPUs"
    elif entry.isdigit():
        why = f"past the {count} GPU(s) NVML sees"
    else:
        why = "which names no device"
    return f" (CUDA stops reading it at {entry!r}, {why})"


def _torch_uuid(cuda_index: int) -> str | None:
    """The UUID CUDA itself gives cuda:N, when torch is already loaded with CUDA (exact, any ordering)."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available() and cuda_index < torch.cuda.device_count():
            return str(torch.cuda.get_device_properties(cuda_index).uuid)
    except Exception:  # an old torch without .uuid, or CUDA not initialisable
        return None
    return None


def _handle_by_cuda_uuid(pynvml, uuid: str):
    """The NVML handle of the GPU or MIG device CUDA names by `uuid` (CUDA drops the GPU-/MIG- prefix)."""
    bare = uuid.removeprefix("GPU-").removeprefix("MIG-")
    for prefix in ("GPU-", "MIG-"):
        try:
            return pynvml.nvmlDeviceGetHandleByUUID(f"{prefix}{bare}".encode())
        except pynvml.NVMLError:
            continue
    return None


def _handle_by_uuid_prefix(pynvml, prefix: str):
    """The one GPU whose UUID starts with `prefix`; GPUs this process may not open are skipped, and named with
    NVML's answer when none matches, since the GPU meant may be one of them."""
    matches, refused = [], []
    count = pynvml.nvmlDeviceGetCount()
    for index in range(count):
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            if _text(pynvml.nvmlDeviceGetUUID(handle)).startswith(prefix):
                matches.append(handle)
        except pynvml.NVMLError as error:
            refused.append(error_reason(pynvml, error, f"GPU {index}"))
    if not matches and refused:
        more = f" (and {len(refused) - 1} more GPUs as well)" if len(refused) > 1 else ""
        raise SensorUnavailable(
            f"CUDA_VISIBLE_DEVICES names {prefix}, which matches none of the {count - len(refused)} GPUs NVML could "
            f"read, and {refused[0]}{more}"
        )
    if len(matches) != 1:
        raise SensorUnavailable(
            f"CUDA_VISIBLE_DEVICES names {prefix}, which matches {len(matches)} of the "
            f"{count} GPUs NVML sees; list them with `nvidia-smi -L`"
        )
    return matches[0]


def _refuse_mig(pynvml, device: str, handle) -> None:
    """A MIG device, or a GPU in MIG mode, shares the energy counter with every other slice: refused."""
    if _call(pynvml, pynvml.nvmlDeviceIsMigDeviceHandle, handle):
        raise SensorUnavailable(
            f"{device} is the MIG instance {_text(pynvml.nvmlDeviceGetUUID(handle))}, and NVML's energy counter "
            "covers the whole GPU, not one instance; measure on the full GPU to get power"
        )
    mode = _call(pynvml, pynvml.nvmlDeviceGetMigMode, handle)
    if mode and mode[0] == getattr(pynvml, "NVML_DEVICE_MIG_ENABLE", 1):
        through = os.environ.get("NVIDIA_VISIBLE_DEVICES")
        exposed = f" (NVIDIA_VISIBLE_DEVICES={through})" if through else ""
        raise SensorUnavailable(
            f"{device} runs on a GPU in MIG mode{exposed}, so its energy counter covers every slice, "
            "other tenants' work included; measure on a GPU with MIG off to get power"
        )


def resolve_handle(pynvml, device: str):
    """(nvml_index, handle, how) for a torch device string, honouring CUDA_VISIBLE_DEVICES.

    Only the one GPU is opened (by UUID where CUDA gives it), so a GPU this process may
    not touch elsewhere on the host does not stop it; a MIG slice is refused."""
    ref = parse_device(device)
    if ref.kind != "cuda":
        raise SensorUnavailable(f"'{device}' is not a CUDA device; write cuda or cuda:N")
    handle, how = _cuda_handle(pynvml, ref.index, device)
    _refuse_mig(pynvml, device, handle)
    return pynvml.nvmlDeviceGetIndex(handle), handle, how


def _cuda_handle(pynvml, cuda_index: int, device: str):
    """(handle, how) of the GPU or MIG device CUDA runs cuda:N on: by the UUID CUDA gives it, else through
    CUDA_VISIBLE_DEVICES; SensorUnavailable where the variable leaves no such device."""
    torch_uuid = _torch_uuid(cuda_index)
    handle = _handle_by_cuda_uuid(pynvml, torch_uuid) if torch_uuid else None
    how = "matched by UUID reported by CUDA"
    if handle is None:
        selector, how = _visible_selector(pynvml, cuda_index)
        if isinstance(selector, str):
            handle = _handle_by_uuid_prefix(pynvml, selector)
        else:
            count = pynvml.nvmlDeviceGetCount()
            if selector >= count:
                raise SensorUnavailable(
                    f"{device} maps to NVML GPU {selector} but NVML sees only {count} GPU(s); "
                    "list them with `nvidia-smi -L`"
                )
            handle = pynvml.nvmlDeviceGetHandleByIndex(selector)
    return handle, how


def mapping_certain(pynvml, how: str) -> bool:
    """Whether the NVML GPU found `how` is surely the one CUDA runs on: matched by UUID, the only GPU, or both in
    PCI order.

    CUDA numbers GPUs fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID (and MPS may renumber them),
    while NVML numbers them in PCI order, so an index, even from CUDA_VISIBLE_DEVICES, is a guess."""
    if how.startswith("matched by UUID") or "= GPU-" in how:
        return True
    return os.environ.get("CUDA_DEVICE_ORDER") == "PCI_BUS_ID" or pynvml.nvmlDeviceGetCount() == 1


def cuda_names(pynvml) -> dict[int, tuple[str, bool]]:
    """NVML index -> (the cuda:N that `--device` names it by, whether that match is certain), found as
    resolve_handle finds the GPU of cuda:N; GPUs CUDA_VISIBLE_DEVICES hides, and MIG slices, have none."""
    entries = _visible_entries(pynvml)
    names = {}
    for cuda_index in range(pynvml.nvmlDeviceGetCount() if entries is None else len(entries)):
        try:
            handle, how = _cuda_handle(pynvml, cuda_index, f"cuda:{cuda_index}")
            if _call(pynvml, pynvml.nvmlDeviceIsMigDeviceHandle, handle):
                continue
            index = pynvml.nvmlDeviceGetIndex(handle)
        except (SensorUnavailable, pynvml.NVMLError):
            continue  # a MIG slice, or an entry that names no GPU NVML can open
        names.setdefault(index, (f"cuda:{cuda_index}", mapping_certain(pynvml, how)))
    return names


def power_source(pynvml, handle) -> tuple[int | None, str | None, int | None]:
    """Which power this GPU gives, and its reading then: the scope that answers field 186 (GPU 0, module 1 on
    Grace Hopper, None where neither does), the power field's name (None without power) and its reading in mW
    (None without power). Bindings that predate field 186 fall back to nvmlDeviceGetPowerUsage, as a driver
    without it does."""
    scopes = (0, POWER_SCOPE_MODULE) if old_bindings_note(pynvml) is None else ()
    for scope in scopes:
        power_mw = _call(pynvml, _power_mw, pynvml, handle, scope)
        if power_mw is not None:
            return scope, _power_field_name(scope), power_mw
    usage = _call(pynvml, _power_mw, pynvml, handle, None)
    return None, ("power_usage" if usage is not None else None), usage


def _power_mw(pynvml, handle, scope: int | None) -> int:
    """The power field's reading in mW: field 186 at `scope` (0 GPU, 1 module), else nvmlDeviceGetPowerUsage
    (None); NVMLError where NVML fails to answer."""
    if scope is not None:
        return _read_instant_power_mw(pynvml, handle, scope or None)
    return pynvml.nvmlDeviceGetPowerUsage(handle)


def _read_instant_power_mw(pynvml, handle, scope: int | None = None) -> int:
    """Field 186 in mW; NVMLError where the call or the field fails, as every other NVML query does."""
    field_id = pynvml.NVML_FI_DEV_POWER_INSTANT
    values = pynvml.nvmlDeviceGetFieldValues(handle, [field_id if not scope else (field_id, scope)])
    if values[0].nvmlReturn != pynvml.NVML_SUCCESS:
        raise pynvml.NVMLError(values[0].nvmlReturn)
    return values[0].value.uiVal


def no_power_reason(index: int) -> str:
    """Why a GPU that gives NVML neither an energy counter nor power cannot be measured."""
    return (
        f"GPU {index} reports neither an energy counter nor power through NVML (some "
        "consumer and virtual GPUs do not); power cannot be measured on it"
    )


def zero_power_reason(index: int) -> str:
    """Why a GPU without an energy counter whose power reads 0 mW cannot be measured: a powered GPU never draws
    0 W, so the reading is broken, and its energy would be a guess."""
    return (
        f"GPU {index} has no energy counter and its power reading through NVML answers 0 W, which a powered GPU "
        "never draws (some virtual GPUs answer so); power cannot be measured on it"
    )


def describe_gpu(pynvml, index: int) -> dict:
    """One GPU as `hwprof devices` shows it: what it is and which power sources it has, or why not."""
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        info = {
            "nvml_index": index,
            "name": _text(pynvml.nvmlDeviceGetName(handle)),
            "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
        }
        counter = _call(pynvml, pynvml.nvmlDeviceGetTotalEnergyConsumption, handle)
        _, power_field, power_mw = power_source(pynvml, handle)
        mig = _call(pynvml, pynvml.nvmlDeviceGetMigMode, handle)
    except pynvml.NVMLError as error:
        return {
            "nvml_index": index,
            "name": "unavailable",
            "uuid": None,
            "energy_counter": False,
            "power_field": None,
            "reason": error_reason(pynvml, error, f"GPU {index}"),
        }
    info["energy_counter"] = counter is not None
    info["power_field"] = power_field
    note = old_bindings_note(pynvml)
    if note:
        info["note"] = note
    if counter is None and power_mw == 0:  # its only power source answers 0 W
        info["reason"] = zero_power_reason(index)
    elif counter is None and info["power_field"] is None:
        info["reason"] = no_power_reason(index)
    elif mig and mig[0] == getattr(pynvml, "NVML_DEVICE_MIG_ENABLE", 1):
        info["reason"] = (
            f"GPU {index} is in MIG mode: its energy counter covers every slice, other tenants' work "
            "included; measure on a GPU with MIG off to get power"
        )
    return info


def _power_field_name(scope: int) -> str:
    return "power_instant" if scope == 0 else "power_instant_module"


def reason_names(pynvml, mask: int) -> list[str]:
    names = []
    for name in REASON_NAMES:
        bit = getattr(pynvml, f"nvmlClocksEventReason{name}", None)
        if bit is None:
            bit = getattr(pynvml, f"nvmlClocksThrottleReason{name}", 0)
        if bit and mask & bit:
            names.append(name)
    return names


def reasons_function(pynvml, handle) -> str:
    """The clock-event reasons call this driver has: R535 renamed it, and older drivers lack the new symbol."""
    function = getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
    if function is not None:
        try:
            function(handle)
            return "nvmlDeviceGetCurrentClocksEventReasons"
        except pynvml.NVMLError as error:
            if getattr(error, "value", None) != NVML_ERROR_FUNCTION_NOT_FOUND:
                return "nvmlDeviceGetCurrentClocksEventReasons"  # the driver has it; this GPU may not answer
    return "nvmlDeviceGetCurrentClocksThrottleReasons"


def own_context_counted() -> bool:
    """Whether this process holds a CUDA context, so appears among a GPU's processes."""
    torch = sys.modules.get("torch")
    try:
        return bool(torch is not None and torch.cuda.is_initialized())
    except Exception:
        return False


class NvmlSensor(PowerSensor):
    """Energy of one NVIDIA GPU: counter first, instantaneous samples as the cross-check."""

    min_window_s = MIN_WINDOW_S
    poll_interval_s = POLL_INTERVAL_S
    poll_outside_windows = False  # NVML calls take the driver's lock: never beside a timed kernel
    counter_ticks = True
    state_poll_every = 5  # clocks every 50 ms; the counter, whose steps time the window, every 10 ms
    edge_states = False
    response_s = RESPONSE_S

    def __init__(self, device: str = "cuda", clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._pynvml = load_pynvml()
        self._handle = None
        try:
            self._open_gpu(device)
        except SensorUnavailable:
            self._pynvml.nvmlShutdown()
            raise
        except self._pynvml.NVMLError as error:
            self._pynvml.nvmlShutdown()
            raise SensorUnavailable(error_reason(self._pynvml, error, f"the GPU of {device}")) from None

    def _open_gpu(self, device: str) -> None:
        pynvml = self._pynvml
        self.index, self._handle, self.mapping = resolve_handle(pynvml, device)
        self.device = device
        self.name = _text(pynvml.nvmlDeviceGetName(self._handle))
        self.uuid = _text(pynvml.nvmlDeviceGetUUID(self._handle))
        self.has_counter = _call(pynvml, pynvml.nvmlDeviceGetTotalEnergyConsumption, self._handle) is not None
        self._instant_scope, self.power_field, power_mw = power_source(pynvml, self._handle)
        if self._instant_scope is not None:
            self.samples_are_instantaneous = True
        elif self.power_field is not None:
            # Instantaneous before Ampere, a 1 s average from Ampere on: trusted as energy only without a counter.
            self.samples_are_instantaneous = not self.has_counter
        elif self.has_counter:
            self.samples_are_instantaneous = False
        else:
            raise SensorUnavailable(no_power_reason(self.index))
        if not self.has_counter and not power_mw:  # its only power source answers 0 W
            raise SensorUnavailable(zero_power_reason(self.index))
        self.primary_sensor = f"nvml:{self.index}:{self.power_field}"
        self.source = f"nvml:{self.index}:total_energy" if self.has_counter else self.primary_sensor
        self.update_period_probed = False
        self._reasons_call = reasons_function(pynvml, self._handle)
        self.power_limit_w = self._power_limit_w()
        note = old_bindings_note(pynvml)
        self.notes = [note] if note else []  # measure and run print them; the provenance keeps them

    def _power_limit_w(self) -> float | None:
        limit_mw = _call(self._pynvml, self._pynvml.nvmlDeviceGetEnforcedPowerLimit, self._handle)
        return limit_mw / 1000 if limit_mw is not None else None

    def _open_hardware(self) -> None:
        read = self._read_energy_j if self.has_counter else self._read_power_w
        self.update_period_s, self.update_period_probed = probe_update_period(
            read, max_probe_s=1.0, nominal_s=NOMINAL_UPDATE_PERIOD_S, clock=self.clock
        )

    def _close_hardware(self) -> None:
        if self._handle is not None:
            self._pynvml.nvmlShutdown()
            self._handle = None

    def _read_energy_j(self) -> float | None:
        if not self.has_counter:
            return None
        try:
            return self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0
        except self._pynvml.NVMLError as error:  # lost, or taken away, after it opened
            raise SensorUnavailable(error_reason(self._pynvml, error, f"GPU {self.index}")) from None

    def _read_power_w(self) -> float | None:
        """The GPU's power now, or None. Beside a counter it is only a cross-check, so a failed or 0 mW read is
        left out; without one it is the energy, so either stops the sensor with the reason (a lost GPU, a reading
        that fell to 0 W, which a powered GPU never draws) rather than leave a gap the other samples fill."""
        if self.power_field is None:
            return None
        pynvml = self._pynvml
        try:
            milliwatts = self._power_mw()
        except pynvml.NVMLError as error:
            if self.has_counter:
                return None
            raise SensorUnavailable(error_reason(pynvml, error, f"GPU {self.index}")) from None
        if milliwatts:
            return milliwatts / 1000.0
        if self.has_counter:
            return None
        raise SensorUnavailable(
            f"GPU {self.index}'s power reading through NVML fell to 0 W, which a powered GPU never draws, "
            "so it gives no energy from there"
        )

    def _power_mw(self) -> int:
        """The power field's reading in mW; NVMLError where NVML fails to answer."""
        return _power_mw(self._pynvml, self._handle, self._instant_scope)

    def _poll_samples(self, now: float) -> list[PowerSample]:
        power_w = self._read_power_w()
        return [] if power_w is None else [PowerSample(now, self.primary_sensor, power_w)]

    def other_processes(self) -> int | None:
        """Processes other than this one with a context on the GPU; None where NVML does not say.

        In a container NVML gives host PIDs, so this process is recognised by PID where it can be,
        else counted out once if it holds a CUDA context."""
        processes = _call(self._pynvml, self._pynvml.nvmlDeviceGetComputeRunningProcesses, self._handle)
        if processes is None:
            return None
        pids = {process.pid for process in processes}
        ours = os.getpid() in pids or own_context_counted()
        return max(0, len(pids) - int(ours))

    def _read_state(self) -> dict:
        pynvml, handle = self._pynvml, self._handle
        return {
            "sm_clock_mhz": _call(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_SM),
            "mem_clock_mhz": _call(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_MEM),
            "temperature_c": _call(pynvml, pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU),
            "pstate": _call(pynvml, pynvml.nvmlDeviceGetPerformanceState, handle),
            "clock_event_reasons": _call(pynvml, getattr(pynvml, self._reasons_call), handle),
            "other_processes": self.other_processes(),
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

        mask = 0
        for reasons in values("clock_event_reasons"):
            mask |= reasons
        names = reason_names(self._pynvml, mask)
        for key in ("sm_clock_mhz", "mem_clock_mhz"):
            seen = values(key)
            if seen:
                window.metadata[f"{key}_min"], window.metadata[f"{key}_max"] = min(seen), max(seen)
                window.metadata[f"{key}_median"] = sorted(seen)[len(seen) // 2]
                if max(seen) - min(seen) > CLOCK_SPREAD_TOLERANCE * max(seen):
                    # At its power limit a GPU steers the SM clock to hold the power (an H200 at 700 W moved
                    # between 1395 and 1500 MHz within a window): its steady state, not a change of settings.
                    if key == "sm_clock_mhz" and "SwPowerCap" in names:
                        window.metadata["sm_clock_held_by_power_cap"] = True
                    else:
                        window.clocks_changed = True
        temperatures = values("temperature_c")
        if temperatures:
            window.metadata["temperature_c_start"] = temperatures[0]
            window.metadata["temperature_c_max"] = max(temperatures)
        pstates = sorted(set(values("pstate")) - {PSTATE_UNKNOWN})
        if pstates:
            window.metadata["pstates"] = pstates
        others = values("other_processes")
        if others:
            window.metadata["other_processes_max"] = max(others)
        window.metadata["clock_event_reasons"] = names
        window.throttled = any(name not in BENIGN_REASON_NAMES for name in names)
        window.metadata["power_limit_w"] = self.power_limit_w
        self._cross_check(window)

    def _cross_check_note(self) -> str:
        """Whether every window compares the counter with the instantaneous samples, and why not."""
        if not self.has_counter:
            return "off: no counter"
        if self._instant_scope is None:
            return "off: no instantaneous power (power_usage is a 1 s average)"
        if self._instant_scope != 0:
            return "off: field 186 answers only at module scope, which covers more than the GPU"
        return "on"

    def _cross_check(self, window) -> None:
        """Counter energy against the integral of instantaneous samples, in every window (same scope only)."""
        counter, sampled = window.counter_energy_j, window.sampled_energy_j
        if not (self.has_counter and self._instant_scope == 0 and counter and sampled):
            return
        disagreement = abs(sampled - counter) / counter
        window.metadata["counter_vs_samples"] = round(disagreement, 4)
        if disagreement > CROSS_CHECK_TOLERANCE and "short_window" not in window.flags:
            window.flags.append("counter_vs_samples_disagree")

    def _settings(self) -> dict:
        """Driver and clock settings that change what a GPU measures, for the provenance."""
        pynvml, handle = self._pynvml, self._handle

        def setting(function, *args):
            try:
                return function(*args)
            except pynvml.NVMLError as error:
                return f"unreadable ({error})"

        return {
            "driver_version": _text(setting(pynvml.nvmlSystemGetDriverVersion)),
            "persistence_mode": setting(pynvml.nvmlDeviceGetPersistenceMode, handle),
            "applications_clocks_mhz": {
                "sm": setting(pynvml.nvmlDeviceGetApplicationsClock, handle, pynvml.NVML_CLOCK_SM),
                "mem": setting(pynvml.nvmlDeviceGetApplicationsClock, handle, pynvml.NVML_CLOCK_MEM),
            },
            "default_applications_clocks_mhz": {
                "sm": setting(pynvml.nvmlDeviceGetDefaultApplicationsClock, handle, pynvml.NVML_CLOCK_SM),
                "mem": setting(pynvml.nvmlDeviceGetDefaultApplicationsClock, handle, pynvml.NVML_CLOCK_MEM),
            },
            # NVML can set locked clocks (nvidia-smi -lgc) but has no call that reads them back; a GPU held
            # by them shows the ApplicationsClocksSetting reason in the rows' gpu_clock_event_reasons.
            "locked_clocks": "unreadable (NVML has no query; `nvidia-smi -q -d CLOCK` shows them)",
            "clock_event_reasons_call": self._reasons_call,
        }

    def metadata(self) -> dict:
        return {
            "driver": "nvml",
            "source": self.source,
            "gpu": self.name,
            "uuid": self.uuid,
            "nvml_index": self.index,
            "device": self.device,
            "device_mapping": self.mapping,
            "device_mapping_certain": mapping_certain(self._pynvml, self.mapping),
            "energy_counter": self.has_counter,
            "power_field": self.power_field,
            "power_samples_instantaneous": self.samples_are_instantaneous,
            "counter_cross_check": self._cross_check_note(),
            "power_limit_w": self.power_limit_w,
            "update_period_s": self.update_period_s,
            "update_period_probed": self.update_period_probed,
            "poll_interval_s": self.poll_interval_s,
            "poll_outside_windows": self.poll_outside_windows,
            "min_window_s": self.min_window_s,
            **self._settings(),
            **({"notes": self.notes} if self.notes else {}),
        }
