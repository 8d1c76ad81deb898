"""Where and how a dataset was measured, recorded next to the numbers.

A latency is only meaningful with the board, clocks and software that produced
it, so every run stores this record in the dataset's metadata and sidecar.
Anything that cannot be read is written as "unreadable", never guessed.

Every /sys and /proc path is prefixed with the environment variable
HWPROF_SYSFS_ROOT (empty by default), so tests can point it at a fake tree.
"""

from __future__ import annotations

import glob
import os
import platform
import re
import shlex
import socket
import sys
import uuid
from datetime import datetime, timezone

import hwprof
from hwprof.errors import HwprofError
from hwprof.schema import SCHEMA_VERSION

UNREADABLE = "unreadable"
CPUFREQ_FILES = {
    "governor": "scaling_governor",
    "min_khz": "scaling_min_freq",
    "max_khz": "scaling_max_freq",
    "cur_khz": "scaling_cur_freq",
}


def system_path(path: str) -> str:
    """`path` (absolute, under /sys or /proc) below HWPROF_SYSFS_ROOT."""
    return os.environ.get("HWPROF_SYSFS_ROOT", "") + path


def _read_text(path: str) -> str | None:
    try:
        with open(system_path(path), encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's marketing name; ARM boards often only name the SoC or board."""
    cpuinfo = _read_text("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        if match and match.group(1).strip():
            return match.group(1).strip()
    board = _read_text("/sys/firmware/devicetree/base/model")
    if board:
        return board.rstrip("\x00")
    return platform.processor() or platform.machine() or UNREADABLE


def _cuda_index(device: str) -> int:
    kind, _, index = device.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise HwprofError(f"Unknown device {device!r}; use cpu, cuda or cuda:N.")
    return int(index or 0)


def device_name(device: str) -> str:
    """Human name of `device` ("cpu", "cuda", "cuda:N"), for the device_name column."""
    if device == "cpu":
        return cpu_model()
    index = _cuda_index(device)
    import torch

    if not torch.cuda.is_available():
        raise HwprofError(f"Device {device} was asked for, but this torch build sees no CUDA device.")
    if index >= torch.cuda.device_count():
        raise HwprofError(
            f"Device {device} does not exist; this machine has {torch.cuda.device_count()} CUDA device(s)."
        )
    return torch.cuda.get_device_name(index)


def _khz(text: str | None) -> int | str:
    return int(text) if text is not None and text.isdigit() else UNREADABLE


def cpufreq() -> dict[str, dict[str, int | str]]:
    """Governor and scaling frequencies (kHz) of each CPU that exposes cpufreq."""
    pattern = system_path("/sys/devices/system/cpu/cpu[0-9]*")
    root_length = len(system_path(""))
    per_cpu = {}
    for cpu_dir in sorted(glob.glob(pattern), key=lambda p: int(re.sub(r"\D", "", os.path.basename(p)))):
        base = cpu_dir[root_length:] + "/cpufreq/"
        governor = _read_text(base + CPUFREQ_FILES["governor"])
        record = {"governor": governor or UNREADABLE}
        for key in ("min_khz", "max_khz", "cur_khz"):
            record[key] = _khz(_read_text(base + CPUFREQ_FILES[key]))
        per_cpu[os.path.basename(cpu_dir)] = record
    return per_cpu


def _governor_summary(per_cpu: dict[str, dict[str, int | str]]) -> str:
    governors = sorted({record["governor"] for record in per_cpu.values()} - {UNREADABLE})
    if not governors:
        return UNREADABLE
    return governors[0] if len(governors) == 1 else "mixed: " + ",".join(governors)


def _any_readable(per_cpu: dict[str, dict[str, int | str]]) -> bool:
    return any(value != UNREADABLE for record in per_cpu.values() for value in record.values())


def _torch_build() -> dict:
    import torch

    return {
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,  # None on CPU-only builds
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cuda_available": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
    }


def collect_provenance(device: str, threads: int | None, argv: list[str], extra: dict | None = None) -> dict:
    """The record of one run: software, hardware, clocks and command line."""
    per_cpu = cpufreq()
    record = {
        "run_id": uuid.uuid4().hex,
        "schema_version": SCHEMA_VERSION,
        "hwprof": hwprof.__version__,
        "python": platform.python_version(),
        **_torch_build(),
        "device": device,
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "governor": _governor_summary(per_cpu),
        "cpufreq": per_cpu if _any_readable(per_cpu) else UNREADABLE,
        "threads": threads,
        "host": socket.gethostname(),
        "start_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": list(argv),
        "command_line": shlex.join(argv),
        "platform": platform.platform(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python_executable": sys.executable,
    }
    clashes = sorted(set(extra or {}) & set(record))
    if clashes:
        raise ValueError(f"extra provenance keys {clashes} would overwrite collected ones")
    record.update(extra or {})
    return record
