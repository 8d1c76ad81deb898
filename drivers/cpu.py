"""The CPU as a device, and why a machine without a power sensor gives latency only.

hwprof never guesses power (no TDP estimates): where no counter is readable
the rows keep null power columns and this module supplies the sentence that
tells the user why and what would fix it.
"""

from __future__ import annotations

import os
import platform

from hwprof.drivers.base import sysfs_path


def _cpuinfo() -> str:
    try:
        return sysfs_path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's marketing name, or the machine architecture when /proc/cpuinfo has none."""
    for line in _cpuinfo().splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


def is_virtual_machine() -> bool:
    """The hypervisor CPU flag: set inside VMs, which do not pass RAPL through."""
    for line in _cpuinfo().splitlines():
        if line.startswith("flags") and " hypervisor" in line:
            return True
    return False


def no_rapl_reason() -> str:
    """One sentence: why this machine has no RAPL zones and what would give it some."""
    if platform.system() != "Linux":
        return (f"CPU power needs Linux's RAPL powercap interface and this is {platform.system()}, "
                "so hwprof reports latency only")
    if is_virtual_machine():
        return ("this is a virtual machine (the hypervisor flag is set in /proc/cpuinfo) and it exposes no "
                "RAPL energy counters, so hwprof reports latency only; measure power on bare metal")
    return (f"no RAPL zones under {sysfs_path('/sys/class/powercap')}; load the driver with "
            "`sudo modprobe intel_rapl_msr` (Intel, and AMD Zen on Linux 5.8 and later) or, in a container, "
            "bind-mount the host's /sys and set HWPROF_SYSFS_ROOT")


def describe_cpu() -> dict:
    """The CPU as a measurable device: what it is and how its clocks are set."""
    cpufreq = sysfs_path("/sys/devices/system/cpu/cpu0/cpufreq")
    info = {"device": "cpu", "name": cpu_model(), "logical_cpus": os.cpu_count(),
            "virtual_machine": is_virtual_machine()}
    for key in ("scaling_governor", "scaling_min_freq", "scaling_max_freq"):
        try:
            info[key] = (cpufreq / key).read_text().strip()
        except OSError:
            pass
    return info
