"""Where and how a dataset was measured, recorded next to the numbers.

A latency is only meaningful with the board, clocks and software that produced
it, so every run stores this record in the dataset's metadata and sidecar.
Anything that cannot be read is written as "unreadable", never guessed.

Host facts come from hwprof.drivers.host, which reads every /sys and /proc
path below HWPROF_SYSFS_ROOT, so tests can point it at a fake tree.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shlex
import socket
import subprocess
import sys
import uuid

import hwprof
from hwprof.drivers.host import (
    UNREADABLE,
    cpu_id,
    cpu_model,
    cpu_names,
    cpu_quota,
    cpu_temperature_c,
    cpufreq_settings,
    load_average_1m,
    parse_device,
    read_text,
    turbo,
    usable_cpus,
)
from hwprof.errors import HwprofError, option
from hwprof.files import now_text
from hwprof.measuring.throttling import Throttling, read_throttling, throttling_between
from hwprof.schema import SCHEMA_VERSION

# Environment variables that choose the kernels a layer runs or the threads it runs on, recorded where set: with
# ATEN_CPU_CAPABILITY=default a LayerNorm network ran 3x slower than with AVX-512 and no other key differed.
KERNEL_ENV_PREFIXES = (
    "OMP_",
    "KMP_",
    "GOMP_",
    "MKL_",
    "OPENBLAS_",
    "DNNL_",
    "ONEDNN_",
    "MALLOC_",
    "PYTORCH_",
    "TORCHINDUCTOR_",
    "CUBLAS_",
)
KERNEL_ENV_NAMES = (
    "ATEN_CPU_CAPABILITY",
    "LD_PRELOAD",
    "GLIBC_TUNABLES",
    "NVIDIA_TF32_OVERRIDE",
    "CUDA_LAUNCH_BLOCKING",
)
CONFIG_DIGEST_HEX = 16  # of sha256's 64: enough to tell two torch builds apart
# the cgroup's quota counters as the latest run began (collect_provenance), for end_facts, which is given no record
_throttling_at_start: dict[str, Throttling] | None = None


def no_cuda_reason(device: str) -> str:
    """Why torch sees no CUDA device, in one sentence: a CPU-only build, or a CUDA build without a GPU."""
    import torch

    if torch.version.cuda is None:
        why = f"it is a CPU-only build (torch {torch.__version__}): install a CUDA build as the README says"
    else:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        hidden = f", and CUDA_VISIBLE_DEVICES={visible!r} may hide it" if visible is not None else ""
        why = (
            f"it is a CUDA {torch.version.cuda} build, so the NVIDIA driver or the GPU is missing{hidden} "
            "(nvidia-smi tells which)"
        )
    return f"device {device} was asked for, but this torch build sees no CUDA device: {why}; or measure the CPU"


def device_name(device: str) -> str:
    """Human name of `device` ("cpu", "cuda", "cuda:N"), for the device_name column."""
    ref = parse_device(device)
    if ref.kind == "cpu":
        return cpu_model()
    import torch

    if not torch.cuda.is_available():
        raise HwprofError(no_cuda_reason(device))
    if ref.index >= torch.cuda.device_count():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        chosen = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        raise HwprofError(
            f"{option('device', device)} does not exist: only {torch.cuda.device_count()} CUDA device(s) are "
            f"visible{chosen}"
        )
    return torch.cuda.get_device_name(ref.index)


def boot_id() -> str | None:
    """The kernel's id of this boot, shared by every container on the machine (each gets a fresh random
    hostname), and on macOS its boot session's, as a Mac's hostname follows the network it joins; None where it
    cannot be read (a hardened sandbox)."""
    if sys.platform == "darwin":
        return _mac_boot_session()
    return read_text("/proc/sys/kernel/random/boot_id") or None


def _mac_boot_session() -> str | None:
    """macOS's boot session UUID (sysctl kern.bootsessionuuid), new at every boot; None where sysctl fails."""
    try:
        done = subprocess.run(
            ["sysctl", "-n", "kern.bootsessionuuid"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def same_machine(before: dict, now: dict) -> bool:
    """Whether two runs' provenance (before, now) come from one machine: the same device_name, and the same host
    or, where a container's hostname changed, the same boot_id."""
    if before.get("device_name") != now.get("device_name"):
        return False
    if before.get("host") == now.get("host"):
        return True
    return before.get("boot_id") is not None and before.get("boot_id") == now.get("boot_id")


def other_machine(before: dict, now: dict) -> str:
    """Where a run (`before`) was measured against this one (`now`), for refusing what is not the same machine:
    the two devices where their names differ, else the hosts and boots, as naming one device twice would read as
    a contradiction ("on AMD EPYC, not on this AMD EPYC")."""
    if before.get("device_name") != now.get("device_name"):
        return (
            f"on {before.get('device_name')} (host {before.get('host')}), not on this {now.get('device_name')} "
            f"(host {now.get('host')})"
        )
    if before.get("boot_id") is None or now.get("boot_id") is None:
        boots = "no boot id tells whether it is this machine renamed"
    else:
        boots = "in another boot than this one"
    return f"on host {before.get('host')}, not on this host {now.get('host')}, and {boots}"


def _khz(text: str | None) -> int | str:
    return int(text) if text is not None and text.isdigit() else UNREADABLE


def cpufreq() -> dict[str, dict[str, int | str]]:
    """Governor and scaling frequencies (kHz) of each CPU that exposes cpufreq."""
    per_cpu = {}
    for cpu in cpu_names():
        settings = cpufreq_settings(cpu)
        per_cpu[cpu] = {
            "governor": settings.get("scaling_governor") or UNREADABLE,
            **{key: _khz(settings.get(f"scaling_{key[:3]}_freq")) for key in ("min_khz", "max_khz", "cur_khz")},
        }
    return per_cpu


def _governor_summary(per_cpu: dict[str, dict[str, int | str]]) -> str:
    governors = sorted({record["governor"] for record in per_cpu.values()} - {UNREADABLE})
    if not governors:
        return UNREADABLE
    return governors[0] if len(governors) == 1 else "mixed: " + ",".join(governors)


def _any_readable(per_cpu: dict[str, dict[str, int | str]]) -> bool:
    return any(value != UNREADABLE for record in per_cpu.values() for value in record.values())


def kernel_env() -> dict[str, str]:
    """The environment variables of KERNEL_ENV_PREFIXES and KERNEL_ENV_NAMES that are set, by name."""
    return {
        name: value
        for name, value in sorted(os.environ.items())
        if name.startswith(KERNEL_ENV_PREFIXES) or name in KERNEL_ENV_NAMES
    }


def _or_unreadable(read):
    """`read()`, or "unreadable" where this torch build lacks the call (an older release, another platform)."""
    try:
        return read()
    except (AttributeError, RuntimeError):
        return UNREADABLE


@functools.cache
def _torch_config_digest() -> str:
    """A short sha256 of torch.__config__.show(): its compiler, BLAS, oneDNN and CPU kernel builds, which
    torch.__version__ alone does not tell apart (a local build, a conda and a pip wheel of one release)."""
    import torch

    return hashlib.sha256(torch.__config__.show().encode()).hexdigest()[:CONFIG_DIGEST_HEX]


def _torch_build() -> dict:
    import torch

    return {
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,  # None on CPU-only builds
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cuda_available": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
        # settings that pick other kernels for the same layer, so other latencies and energies
        "allow_tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32},
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        # the CPU kernels: "AVX512", "AVX2" or "default" (ATEN_CPU_CAPABILITY), and whether oneDNN runs convolutions
        "cpu_capability": _or_unreadable(lambda: torch.backends.cpu.get_cpu_capability()),
        "mkldnn_enabled": _or_unreadable(lambda: bool(torch.backends.mkldnn.enabled)),
        "torch_config_digest": _or_unreadable(_torch_config_digest),
    }


def _process_build(command: bool) -> dict:
    """The interpreter and torch of the process that was measured. A command of `hwprof run` runs its own
    interpreter and torch, which hwprof cannot see: its own are then kept apart, as hwprof's, not the command's."""
    build = {"python": platform.python_version(), "python_executable": sys.executable, **_torch_build()}
    if command:
        return {"measured_process": "command", "hwprof_build": build}
    return {"measured_process": "hwprof", **build}


def collect_provenance(device: str, threads: int | None, argv: list[str], extra: dict | None = None) -> dict:
    """The record of one run: software, hardware, clocks and command line. `extra` holding "command" makes it a
    record of `hwprof run`'s command."""
    per_cpu = cpufreq()
    record = {
        "run_id": uuid.uuid4().hex,
        "schema_version": SCHEMA_VERSION,
        "hwprof": hwprof.__version__,
        **_process_build("command" in (extra or {})),
        "env": kernel_env(),  # a command of `hwprof run` inherits it
        "device": device,
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "cpu_id": cpu_id(),
        "cpu_count": os.cpu_count(),  # the machine's
        "usable_cpus": usable_cpus(),  # this process's: a taskset or a container's cpuset leaves fewer
        "cpu_quota": cpu_quota(),  # a cgroup's quota in CPUs, None where none: threads beyond it wait
        "governor": _governor_summary(per_cpu),
        "cpufreq": per_cpu if _any_readable(per_cpu) else UNREADABLE,
        "turbo": turbo(),
        "load_average_1m": load_average_1m(),  # at the start
        "cpu_temperature_start_c": cpu_temperature_c(),  # the hottest package's; None where the host shows none
        "threads": threads,
        "host": socket.gethostname(),
        "boot_id": boot_id(),  # the same for every container on one machine until it reboots: see same_machine
        "start_time": now_text(),
        "argv": list(argv),
        "command_line": shlex.join(argv),
        "platform": platform.platform(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }
    global _throttling_at_start
    _throttling_at_start = read_throttling()
    clashes = sorted(set(extra or {}) & set(record))
    if clashes:
        raise ValueError(f"extra provenance keys {clashes} would overwrite collected ones")
    record.update(extra or {})
    return record


def end_facts() -> dict:
    """What a run records of its machine as it ends: the CPU's temperature, which a long run may have raised until
    the CPU clocked itself down (None where the host shows none); and the periods in which its cgroup's CPU quota
    stopped it since the run began, with the time stopped (None where the counters cannot be read), which a
    latency taken across a stop includes."""
    throttled = throttling_between(_throttling_at_start, read_throttling())
    return {
        "cpu_temperature_end_c": cpu_temperature_c(),
        "cpu_throttled_periods": throttled.periods if throttled else None,
        "cpu_throttled_s": round(throttled.throttled_s, 3) if throttled else None,
    }
