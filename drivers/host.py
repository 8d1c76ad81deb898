"""Facts about this host, read once here for every module that needs them.

Device strings (`cpu`, `cuda`, `cuda:N`), the CPU's name, its cpufreq settings,
whether it is a virtual machine, and why it has no power sensor. Every /sys,
/proc and /etc path is read below HWPROF_SYSFS_ROOT (empty by default), so
containers with /sys bind-mounted elsewhere, and the tests, can point it at
another tree; a /proc file the tree lacks is read from the real /proc, since a
container's own /proc tells its CPU and cgroup. Anything unreadable is None
(or "unreadable"), never guessed.
"""

from __future__ import annotations

import functools
import glob
import math
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hwprof.errors import HwprofError

UNREADABLE = "unreadable"
CPUFREQ_FILES = ("scaling_governor", "scaling_min_freq", "scaling_max_freq", "scaling_cur_freq")
# /proc/cpuinfo's fields that tell one CPU generation from another where the marketing name does not: a cloud VM's
# "AMD EPYC" is a Milan (family 25, model 1) or a Genoa (family 25, model 17)
CPU_ID_FIELDS = {"vendor": "vendor_id", "family": "cpu family", "model": "model", "stepping": "stepping"}
# Windows' processor identifier, where there is no /proc/cpuinfo: "Intel64 Family 6 Model 158 Stepping 10,
# GenuineIntel" holds the same numbers and vendor as /proc/cpuinfo's fields
WINDOWS_CPU_ID = re.compile(r"Family (\d+) Model (\d+) Stepping (\d+), (\S+)")
WINDOWS_CPU_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"

# /proc/cpuinfo's "CPU implementer" and "CPU part" codes on Arm (Linux's arch/arm64/include/asm/cputype.h): an
# aarch64 kernel gives no model name, so the cores are what tells a Graviton 2 (Neoverse-N1) from a Graviton 3 (V1)
ARM_IMPLEMENTERS = {
    "0x41": "Arm",
    "0x42": "Broadcom",
    "0x43": "Cavium",
    "0x46": "Fujitsu",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}
ARM_PARTS = {
    ("0x41", "0xd03"): "Cortex-A53",
    ("0x41", "0xd04"): "Cortex-A35",
    ("0x41", "0xd05"): "Cortex-A55",
    ("0x41", "0xd07"): "Cortex-A57",
    ("0x41", "0xd08"): "Cortex-A72",
    ("0x41", "0xd09"): "Cortex-A73",
    ("0x41", "0xd0a"): "Cortex-A75",
    ("0x41", "0xd0b"): "Cortex-A76",
    ("0x41", "0xd0c"): "Neoverse-N1",
    ("0x41", "0xd0d"): "Cortex-A77",
    ("0x41", "0xd40"): "Neoverse-V1",
    ("0x41", "0xd41"): "Cortex-A78",
    ("0x41", "0xd42"): "Cortex-A78AE",
    ("0x41", "0xd44"): "Cortex-X1",
    ("0x41", "0xd46"): "Cortex-A510",
    ("0x41", "0xd47"): "Cortex-A710",
    ("0x41", "0xd48"): "Cortex-X2",
    ("0x41", "0xd49"): "Neoverse-N2",
    ("0x41", "0xd4b"): "Cortex-A78C",
    ("0x41", "0xd4d"): "Cortex-A715",
    ("0x41", "0xd4e"): "Cortex-X3",
    ("0x41", "0xd4f"): "Neoverse-V2",
    ("0x41", "0xd80"): "Cortex-A520",
    ("0x41", "0xd81"): "Cortex-A720",
    ("0x41", "0xd82"): "Cortex-X4",
    ("0x41", "0xd84"): "Neoverse-V3",
    ("0x41", "0xd8e"): "Neoverse-N3",
    ("0x4e", "0x003"): "Denver 2",
    ("0x4e", "0x004"): "Carmel",
    ("0x51", "0x800"): "Kryo 2XX Gold",
    ("0x51", "0x801"): "Kryo 2XX Silver",
    ("0x51", "0x802"): "Kryo 3XX Gold",
    ("0x51", "0x803"): "Kryo 3XX Silver",
    ("0x51", "0x804"): "Kryo 4XX Gold",
    ("0x51", "0x805"): "Kryo 4XX Silver",
    ("0x51", "0xc00"): "Falkor",
    ("0x61", "0x022"): "M1 Icestorm",
    ("0x61", "0x023"): "M1 Firestorm",
    ("0x61", "0x032"): "M2 Blizzard",
    ("0x61", "0x033"): "M2 Avalanche",
    ("0x43", "0x0af"): "ThunderX2",
    ("0x46", "0x001"): "A64FX",
    ("0xc0", "0xac3"): "AmpereOne",
}
# names that only tell the architecture: "ARMv8 Processor rev 1 (v8l)" (Jetson), "Generic DT based system" (arm32)
GENERIC_ARM_NAME = re.compile(r"^(ARMv\d|Generic DT)", re.IGNORECASE)
# cgroup v1 writes "no limit" as the largest page-aligned 63-bit count (9223372036854771712 with 4 KiB pages)
UNLIMITED_CGROUP_V1_BYTES = 2**62


@dataclass(frozen=True)
class DeviceRef:
    """A parsed device string: kind "cpu" or "cuda", and the CUDA index (0 for plain `cuda`)."""

    kind: str
    index: int | None = None

    def __str__(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


def parse_device(text: str) -> DeviceRef:
    """`cpu`, `cuda` or `cuda:N`; anything else is refused in one sentence."""
    kind, colon, index = str(text).partition(":")
    if kind == "cpu" and not colon:
        return DeviceRef("cpu")
    if kind == "cuda" and (not colon or index.isdigit()):
        return DeviceRef("cuda", int(index) if colon else 0)
    hint = "; `hwprof devices` shows each GPU's cuda:N" if kind == "nvml" else ""
    raise HwprofError(f"unknown device {text!r}; use cpu, cuda or cuda:N{hint}")


def check_sysfs_root() -> None:
    """Refuse a HWPROF_SYSFS_ROOT that is not a folder: every host fact would silently read as missing."""
    root = os.environ.get("HWPROF_SYSFS_ROOT", "")
    if root and not os.path.isdir(root):
        raise HwprofError(
            f"HWPROF_SYSFS_ROOT={root} is not a folder; unset it, or point it at a folder holding the host's "
            "/sys and /proc (bind-mounted in a container)"
        )


def sysfs_path(path: str) -> Path:
    """A host path (/sys, /proc, /etc) under HWPROF_SYSFS_ROOT; a /proc file the root does not hold is the real
    one: a container given the host's /sys there still reads its own CPU, VM flag and cgroup from its /proc."""
    root = os.environ.get("HWPROF_SYSFS_ROOT", "")
    full = Path(root + path)
    if root and path.startswith("/proc/") and not full.exists():
        return Path(path)
    return full


def read_text(path: str | Path) -> str | None:
    """The stripped text of a file (a host path string is taken under HWPROF_SYSFS_ROOT), or None."""
    try:
        full = sysfs_path(path) if isinstance(path, str) else path
        return full.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's name, one per kind of board: x86's marketing name; on Arm, whose kernels name only the
    architecture or the SoC, the board's model, else the SoC or the cores decoded; macOS's brand string; the
    Windows registry's name, as platform.processor() there gives only the family numbers, alike for an i5 and an
    i7 of one generation."""
    cpuinfo = read_text("/proc/cpuinfo") or ""

    def field(key: str) -> str | None:
        match = re.search(rf"^{key}\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        return match.group(1).strip() if match and match.group(1).strip() else None

    model_name, hardware, cores = field("model name"), field("Hardware"), arm_cores(cpuinfo)
    if model_name and not GENERIC_ARM_NAME.match(model_name):
        return model_name
    board = field("Model")
    if board:  # a Raspberry Pi's board; its Hardware is BCM2835 on every model
        return board
    if hardware and not GENERIC_ARM_NAME.match(hardware):
        return f"{hardware} ({cores})" if cores else hardware
    for name in (devicetree_model(), cores, model_name):
        if name:
            return name
    if platform.system() == "Darwin":
        brand = _mac_brand_string()
    elif sys.platform == "win32":
        brand = _windows_cpu_name()
    else:
        brand = None
    return brand or platform.processor() or platform.machine() or UNREADABLE


def cpu_id() -> dict[str, str]:
    """Vendor, family, model, stepping and microcode of /proc/cpuinfo's first processor, as strings, each
    "unreadable" where the kernel gives none (Arm, macOS): the name alone can hide a CPU generation. Without
    /proc/cpuinfo (Windows) all but the microcode come from platform.processor()'s identifier."""
    cpuinfo = read_text("/proc/cpuinfo")
    if cpuinfo is None:
        found = WINDOWS_CPU_ID.search(platform.processor())
        if found:
            family, model, stepping, vendor = found.groups()
            named = {"vendor": vendor, "family": family, "model": model, "stepping": stepping}
            return named | {"microcode": UNREADABLE}
    first = (cpuinfo or "").split("\n\n")[0]
    fields = {}
    for line in first.splitlines():
        key, colon, value = line.partition(":")
        if colon and value.strip():
            fields.setdefault(key.strip(), value.strip())
    named = {name: fields.get(key, UNREADABLE) for name, key in CPU_ID_FIELDS.items()}
    return named | {"microcode": fields.get("microcode", UNREADABLE)}


def turbo() -> str:
    """ "on" or "off": whether the CPU may clock above its base frequency (intel_pstate's no_turbo, else cpufreq's
    boost); "unreadable" where neither file says. The same code runs tens of percent faster with it on."""
    no_turbo = read_text("/sys/devices/system/cpu/intel_pstate/no_turbo")
    if no_turbo in ("0", "1"):
        return "on" if no_turbo == "0" else "off"
    boost = read_text("/sys/devices/system/cpu/cpufreq/boost")
    if boost in ("0", "1"):
        return "on" if boost == "1" else "off"
    return UNREADABLE


def load_average_1m() -> float | str:
    """The kernel's 1-minute load average (/proc/loadavg), "unreadable" where it cannot be read: other work on the
    machine when a run starts slows it."""
    try:
        return float((read_text("/proc/loadavg") or "").split()[0])
    except (IndexError, ValueError):
        return UNREADABLE


def cpu_temperature_c() -> float | None:
    """The hottest CPU package's temperature in degrees Celsius, None where the host exposes none: a hot CPU
    clocks itself down, so a run that starts or ends hot is slowed by it. Read from the kernel's x86_pkg_temp
    thermal zones, else AMD's k10temp Tctl or Intel's coretemp package sensors (hwmon)."""
    for sensors in (
        lambda: _thermal_zones("x86_pkg_temp"),
        lambda: _hwmon_sensors("k10temp", "Tctl"),
        lambda: _hwmon_sensors("coretemp", "Package id"),
    ):
        found = [value for value in map(_millidegrees, sensors()) if value is not None]
        if found:
            return max(found)
    return None


def _thermal_zones(kind: str) -> list[str | None]:
    """The readings (millidegrees, as text) of the thermal zones of one type."""
    return [
        read_text(Path(f"{folder}/temp"))
        for folder in _sysfs_folders("/sys/class/thermal/thermal_zone*")
        if read_text(Path(f"{folder}/type")) == kind
    ]


def _hwmon_sensors(name: str, label: str) -> list[str | None]:
    """The readings (millidegrees, as text) of one hwmon driver's temperature sensors whose label starts so."""
    return [
        read_text(Path(str(path).removesuffix("_label") + "_input"))
        for folder in _sysfs_folders("/sys/class/hwmon/hwmon*")
        if read_text(Path(f"{folder}/name")) == name
        for path in sorted(Path(folder).glob("temp*_label"))
        if (read_text(path) or "").startswith(label)
    ]


def _sysfs_folders(pattern: str) -> list[str]:
    """The folders a host glob pattern (a /sys path with wildcards) matches under HWPROF_SYSFS_ROOT, sorted."""
    return sorted(glob.glob(str(sysfs_path(pattern))))


def _millidegrees(text: str | None) -> float | None:
    """A sysfs temperature (millidegrees Celsius, "45000") in degrees; None for text that is not one."""
    try:
        return int(text or "") / 1000
    except ValueError:
        return None


def arm_cores(cpuinfo: str) -> str | None:
    """The kinds of core /proc/cpuinfo lists on Arm, in order ("Arm Cortex-A55 + Cortex-A78"); None elsewhere."""
    implementers = re.findall(r"^CPU implementer\s*:\s*(\S+)", cpuinfo, re.MULTILINE)
    parts = re.findall(r"^CPU part\s*:\s*(\S+)", cpuinfo, re.MULTILINE)
    if not implementers or len(implementers) != len(parts):
        return None
    by_maker: dict[str, list[str]] = {}
    for implementer, part in dict.fromkeys(zip(map(str.lower, implementers), map(str.lower, parts))):
        maker = ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer}")
        by_maker.setdefault(maker, []).append(ARM_PARTS.get((implementer, part), f"part {part}"))
    return " + ".join(f"{maker} {' + '.join(names)}" for maker, names in by_maker.items())


def devicetree_model() -> str | None:
    """The board's name in its device tree ("Raspberry Pi 4 Model B Rev 1.4", a Jetson's), NUL-terminated."""
    for path in ("/proc/device-tree/model", "/sys/firmware/devicetree/base/model"):
        model = (read_text(path) or "").strip("\x00 \n")
        if model:
            return model
    return None


@functools.cache
def _mac_brand_string() -> str | None:
    """macOS's CPU name ("Apple M2 Pro"), where platform gives only "arm" or "i386"; None where sysctl fails."""
    try:
        done = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _windows_cpu_name() -> str | None:
    """The CPU's marketing name in the Windows registry ("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"); None where
    it cannot be read."""
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, WINDOWS_CPU_KEY) as key:
            name, _ = winreg.QueryValueEx(key, "ProcessorNameString")
    except (ImportError, OSError):
        return None
    return str(name).strip() or None


def cpufreq_settings(cpu: str = "cpu0") -> dict[str, str]:
    """The cpufreq files of one CPU that can be read, by file name (scaling_governor, ...)."""
    directory = f"/sys/devices/system/cpu/{cpu}/cpufreq/"
    values = {name: read_text(directory + name) for name in CPUFREQ_FILES}
    return {name: value for name, value in values.items() if value is not None}


def cpu_names() -> list[str]:
    """cpu0, cpu1, ... as /sys lists them, in numeric order."""
    paths = glob.glob(str(sysfs_path("/sys/devices/system/cpu/cpu[0-9]*")))
    return sorted((os.path.basename(p) for p in paths), key=lambda name: int(re.sub(r"\D", "", name)))


def cpu_affinity() -> set[int] | None:
    """The CPUs this process may run on (its affinity mask: a taskset, a container's cpuset); None where there is
    no mask."""
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask
        return None


def usable_cpus() -> int:
    """CPUs this process may run on: a taskset or a container's cpuset leaves fewer than the machine has."""
    mask = cpu_affinity()
    return (len(mask) or 1) if mask is not None else os.cpu_count() or 1


def cpu_quota() -> float | None:
    """The cgroup's CPU quota in CPUs (cpu.max, or cgroup v1's cfs quota), the tightest of the process's cgroup
    and its parents; None where there is none or it cannot be read. A quota leaves the affinity mask as it is, so
    threads beyond it wait their turn while every CPU looks usable."""
    found = []
    for v2, folder in cgroup_folders("cpu", ("cpu", "cpu,cpuacct", "cpuacct,cpu")):
        if v2:  # cpu.max is "QUOTA PERIOD" or "max PERIOD"
            found.append(_quota(read_text(Path(f"{folder}/cpu.max"))))
        else:
            base = f"{folder}/cpu.cfs_"
            found.append(_quota(f"{read_text(Path(base + 'quota_us'))} {read_text(Path(base + 'period_us'))}"))
    quotas = [quota for quota in found if quota is not None]
    return min(quotas) if quotas else None


def cpus_within_quota(cpus: int, quota: float | None) -> int:
    """The CPUs threads can run on at once: the usable `cpus`, fewer where a cgroup's CPU `quota` (rounded up)
    allows fewer, since the quota leaves them all in the affinity mask."""
    return min(cpus, max(1, math.ceil(quota))) if quota else cpus


def cgroup_folders(controller: str, mounts: tuple[str, ...]) -> list[tuple[bool, str]]:
    """The folders of the process's cgroups and each of their parents', as (cgroup v2, folder): the v2 tree's,
    and for a cgroup v1 hierarchy holding `controller`, those under each of its possible `mounts` (its folder
    names in /sys/fs/cgroup)."""
    membership = sysfs_path("/proc/self/cgroup")
    # the cgroup tree on the same side as the membership read: the real one where the root lacks the file
    tree = str(membership).removesuffix("/proc/self/cgroup") + "/sys/fs/cgroup"
    found = []
    for line in (read_text(membership) or "").splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and not controllers:  # cgroup v2
            found += [(True, f"{tree}{folder}") for folder in _folders(path)]
        elif controller in controllers.split(","):
            found += [(False, f"{tree}/{mount}{folder}") for mount in mounts for folder in _folders(path)]
    return found


def _folders(path: str) -> list[str]:
    """A cgroup's folder and each of its parents', "" for the root: /a/b -> /a/b, /a, ""."""
    parts = [part for part in path.strip().split("/") if part]
    return ["/" + "/".join(parts[:count]) if count else "" for count in range(len(parts), -1, -1)]


def _quota(text: str | None) -> float | None:
    """CPUs of a "QUOTA PERIOD" pair; None for no limit ("max", v1's -1) or unreadable text."""
    quota, _, period = (text or "").partition(" ")
    try:
        cpus = int(quota) / int(period)
    except ValueError:
        return None
    return cpus if cpus > 0 else None


def available_memory_bytes() -> int:
    """Bytes this process may still allocate: the least of the machine's available memory, its cgroup's room
    (memory.max, or cgroup v1's limit, less what the cgroup and each parent uses) and RLIMIT_AS's room. The machine
    alone looks roomy inside a container or under `ulimit -v`, where the kernel's OOM killer (or a failed
    allocation) would end the run instead of one clear sentence."""
    import psutil

    files = [  # (limit, usage, memory.stat key of reclaimable file cache) of the process's cgroup and each parent
        (f"{folder}/memory.max", f"{folder}/memory.current", "inactive_file")
        if v2
        else (f"{folder}/memory.limit_in_bytes", f"{folder}/memory.usage_in_bytes", "total_inactive_file")
        for v2, folder in cgroup_folders("memory", ("memory",))
    ]
    rooms = [
        _room(read_text(Path(limit)), read_text(Path(usage)), _stat_bytes(Path(usage).with_name("memory.stat"), key))
        for limit, usage, key in files
    ]
    rooms += [int(psutil.virtual_memory().available), _address_space_room()]
    return max(min(room for room in rooms if room is not None), 0)


def _stat_bytes(path: Path, key: str) -> int:
    """A memory.stat figure; 0 where the file or the key cannot be read, which leaves the usage as it is."""
    for line in (read_text(path) or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _room(limit: str | None, usage: str | None, reclaimable: int) -> int | None:
    """A cgroup's limit less its usage, less the file cache the kernel would reclaim before an OOM kill (as docker
    stats and kubelet's working set count it: a container that just wrote a big file is not full); None for no
    limit ("max", or v1's near-2**63 "unlimited") or unreadable."""
    try:
        limit_bytes, usage_bytes = int(limit or ""), int(usage or "")
    except ValueError:
        return None
    used = max(usage_bytes - reclaimable, 0)
    return limit_bytes - used if limit_bytes < UNLIMITED_CGROUP_V1_BYTES else None


def _address_space_room() -> int | None:
    """RLIMIT_AS's soft limit less this process's address space (VmSize; the whole limit where /proc cannot tell
    it); None where it is unlimited or the resource module is missing (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    match = re.search(r"^VmSize:\s*(\d+)\s*kB", read_text("/proc/self/status") or "", re.MULTILINE)
    return limit - int(match.group(1)) * 1024 if match else limit


def is_virtual_machine() -> bool:
    """The hypervisor CPU flag: set inside VMs, which do not pass RAPL through."""
    for line in (read_text("/proc/cpuinfo") or "").splitlines():
        if line.startswith("flags") and " hypervisor" in line:
            return True
    return False


def no_rapl_reason() -> str:
    """One sentence: why this machine has no RAPL zones and what would give it some."""
    if platform.system() != "Linux":
        return (
            f"CPU power needs Linux's RAPL powercap interface and this is {platform.system()}, "
            "so hwprof reports latency only"
        )
    machine = platform.machine()
    if machine.lower().startswith(("aarch64", "arm")):
        sensor = (
            "measure this Jetson's power rails with --power jetson"
            if is_jetson()
            else "hwprof has no other power sensor to read here, so it reports latency only"
        )
        return f"RAPL is an x86 (Intel and AMD) interface and this is an Arm CPU ({machine}); {sensor}"
    if is_virtual_machine():
        return (
            "this is a virtual machine (the hypervisor flag is set in /proc/cpuinfo) and it exposes no "
            "RAPL energy counters, so hwprof reports latency only; measure power on bare metal"
        )
    return (
        f"no RAPL zones under {sysfs_path('/sys/class/powercap')}; load the driver with "
        "`sudo modprobe intel_rapl_msr` (Intel, and AMD Zen on Linux 5.8 and later) or, in a container, "
        "bind-mount the host's /sys and set HWPROF_SYSFS_ROOT"
    )


def describe_cpu() -> dict:
    """The CPU as a measurable device: what it is and how its clocks are set, where cpufreq says (the scaling
    limits as numbers of kHz, as cpufreq gives them, with the unit in their names)."""
    settings = cpufreq_settings()
    clocks = {f"{name}_khz": _khz(settings.get(name)) for name in ("scaling_min_freq", "scaling_max_freq")}
    return {
        "device": "cpu",
        "name": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),  # the ones this process may use, where a taskset or cpuset leaves fewer
        "cpu_quota": cpu_quota(),
        "virtual_machine": is_virtual_machine(),
        **({"scaling_governor": settings["scaling_governor"]} if "scaling_governor" in settings else {}),
        **{name: value for name, value in clocks.items() if value is not None},
    }


def _khz(text: str | None) -> int | None:
    """A cpufreq frequency file's whole number of kHz; None where it is missing or not a number."""
    return int(text) if text is not None and text.isdigit() else None


def is_jetson() -> bool:
    """The board says it is one (L4T's release file, or a Tegra device tree). A tegrastats path alone does
    not make a Jetson: any program can be named so."""
    if sysfs_path("/etc/nv_tegra_release").exists():
        return True
    compatible = read_text("/proc/device-tree/compatible") or ""
    return "tegra" in compatible.lower()
