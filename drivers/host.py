"""Facts about this host, read once here for every module that needs them.

Device strings (`cpu`, `cuda`, `cuda:N`), the CPU's name, its cpufreq settings,
whether it is a virtual machine, and why it has no power sensor. Every /sys,
/proc and /etc path is read below HWPROF_SYSFS_ROOT (empty by default), so
containers with /sys bind-mounted elsewhere, and the tests, can point it at
another tree. Anything unreadable is None (or "unreadable"), never guessed.
"""

from __future__ import annotations

import glob
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from hwprof.errors import HwprofError

UNREADABLE = "unreadable"
CPUFREQ_FILES = ("scaling_governor", "scaling_min_freq", "scaling_max_freq", "scaling_cur_freq")


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
    raise HwprofError(f"unknown device {text!r}; use cpu, cuda or cuda:N")


def check_sysfs_root() -> None:
    """Refuse a HWPROF_SYSFS_ROOT that is not a folder: every host fact would silently read as missing."""
    root = os.environ.get("HWPROF_SYSFS_ROOT", "")
    if root and not os.path.isdir(root):
        raise HwprofError(
            f"HWPROF_SYSFS_ROOT={root} is not a folder; unset it, or point it at a folder holding the host's "
            "/sys and /proc (bind-mounted in a container)"
        )


def sysfs_path(path: str) -> Path:
    """A host path (/sys, /proc, /etc) under HWPROF_SYSFS_ROOT."""
    return Path(os.environ.get("HWPROF_SYSFS_ROOT", "") + path)


def read_text(path: str | Path) -> str | None:
    """The stripped text of a file (a host path string is taken under HWPROF_SYSFS_ROOT), or None."""
    try:
        full = sysfs_path(path) if isinstance(path, str) else path
        return full.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's marketing name; ARM boards often only name the SoC or the board."""
    cpuinfo = read_text("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware", "Model"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        if match and match.group(1).strip():
            return match.group(1).strip()
    board = read_text("/sys/firmware/devicetree/base/model")
    if board:
        return board.rstrip("\x00")
    return platform.processor() or platform.machine() or UNREADABLE


def cpufreq_settings(cpu: str = "cpu0") -> dict[str, str]:
    """The cpufreq files of one CPU that can be read, by file name (scaling_governor, ...)."""
    directory = f"/sys/devices/system/cpu/{cpu}/cpufreq/"
    values = {name: read_text(directory + name) for name in CPUFREQ_FILES}
    return {name: value for name, value in values.items() if value is not None}


def cpu_names() -> list[str]:
    """cpu0, cpu1, ... as /sys lists them, in numeric order."""
    paths = glob.glob(str(sysfs_path("/sys/devices/system/cpu/cpu[0-9]*")))
    return sorted((os.path.basename(p) for p in paths), key=lambda name: int(re.sub(r"\D", "", name)))


def usable_cpus() -> int:
    """CPUs this process may run on: a taskset or a container's cpuset leaves fewer than the machine has."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def cpu_quota() -> float | None:
    """The cgroup's CPU quota in CPUs (cpu.max, or cgroup v1's cfs quota), the tightest of the process's cgroup
    and its parents; None where there is none or it cannot be read. A quota leaves the affinity mask as it is, so
    threads beyond it wait their turn while every CPU looks usable."""
    found = []
    for line in (read_text("/proc/self/cgroup") or "").splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and not controllers:  # cgroup v2: cpu.max is "QUOTA PERIOD" or "max PERIOD"
            found += [_quota(read_text(f"/sys/fs/cgroup{folder}/cpu.max")) for folder in _folders(path)]
        elif "cpu" in controllers.split(","):
            for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
                for folder in _folders(path):
                    base = f"/sys/fs/cgroup/{mount}{folder}/cpu.cfs_"
                    found.append(_quota(f"{read_text(base + 'quota_us')} {read_text(base + 'period_us')}"))
    quotas = [quota for quota in found if quota is not None]
    return min(quotas) if quotas else None


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
    """The CPU as a measurable device: what it is and how its clocks are set."""
    settings = cpufreq_settings()
    settings.pop("scaling_cur_freq", None)
    return {
        "device": "cpu",
        "name": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),  # the ones this process may use, where a taskset or cpuset leaves fewer
        "cpu_quota": cpu_quota(),
        "virtual_machine": is_virtual_machine(),
        **settings,
    }
