"""`hwprof measure --device cuda:0,cuda:1`: one shard per device, measured in parallel, then merged.

Each device gets its own `hwprof measure` process (its own CUDA context, power
sensor and dataset, written as it goes and resumable on its own) with an equal
share of the CPU threads; when all have finished, the shards are merged into OUT
with every run's provenance. A shard that fails leaves the others' rows intact.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hwprof.drivers.host import cpu_quota, cpus_within_quota, parse_device, usable_cpus
from hwprof.errors import HwprofError, option


def parse_devices(text: str) -> list[str]:
    """`cuda:0,cuda:1` as device strings, each once."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 1 and not all(parts):
        raise HwprofError(f"{option('device', text)} has an empty device in its list; write e.g. cuda:0,cuda:1")
    devices = [str(parse_device(part)) for part in parts if part]
    twice = sorted({d for d in devices if devices.count(d) > 1})
    if twice:
        raise HwprofError(f"{option('device', text)} names {', '.join(twice)} more than once; name each device once")
    return devices


def shard_path(out: str, device: str) -> str:
    """OUT with the device before the suffix: hwprof.parquet -> hwprof.cuda0.parquet."""
    path = Path(out)
    suffix = ".csv" if out.lower().endswith(".csv") else ".parquet"
    stem = path.name[: -len(suffix)] if path.name.lower().endswith(suffix) else path.name
    return str(path.with_name(f"{stem}.{device.replace(':', '')}{suffix}"))


def command_args(context) -> list[str]:
    """The measure command as given (models and every option set away from its default), to hand to a shard."""
    args = list(context.params["models"])
    for param in context.command.params:
        if not hasattr(param, "is_flag") or param.name in ("device", "out", "threads", "as_json", "quiet"):
            continue
        value = context.params[param.name]
        if param.is_flag:
            args += [param.opts[0]] if value else []
        elif param.multiple:  # given once per value, e.g. --input
            args += [part for item in value for part in (param.opts[0], str(item))]
        elif value is not None and value != param.default:
            args += [param.opts[0], str(value)]
    return args


def shard_argv(args: list[str], device: str, out: str, threads: int) -> list[str]:
    """The measure arguments of one shard: its device, its output, its threads; quiet."""
    return [*args, "--device", device, "--out", out, "--threads", str(threads), "--quiet"]


def shard_threads(requested: int | None, shards: int) -> int:
    """Threads per shard: as asked, else an equal share of the CPUs this process may use, so shards do not fight
    over cores. A cgroup's CPU quota (rounded up, as measure caps its threads) counts where it allows fewer: a
    container limited to 2 CPUs of a 16-CPU host sees all 16 in its affinity mask, but runs on 2."""
    if requested is not None:
        return requested
    return max(1, cpus_within_quota(usable_cpus(), cpu_quota()) // shards)


def check_devices(devices: list[str]) -> None:
    """Every CUDA device named exists, checked before any shard starts."""
    if not any(device.startswith("cuda") for device in devices):
        return
    import torch

    from hwprof.measuring.provenance import no_cuda_reason

    if not torch.cuda.is_available():
        raise HwprofError(no_cuda_reason(",".join(devices)))
    count = torch.cuda.device_count()
    missing = [d for d in devices if d.startswith("cuda") and parse_device(d).index >= count]
    if missing:
        raise HwprofError(f"{', '.join(missing)} do(es) not exist: {count} CUDA device(s) are visible")


def run_shards(jobs: list[tuple[str, list[str]]], echo) -> dict[str, int]:
    """Start `hwprof measure ARGS` for every (device, args) at once; each one's exit status when all ended."""
    processes = {}
    try:
        for device, args in jobs:
            command = [sys.executable, "-m", "hwprof", "measure", *args]
            echo(f"{device}: {' '.join(command[2:])}")
            processes[device] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        return {device: process.wait() for device, process in processes.items()}
    except BaseException:  # Ctrl-C or SIGTERM: stop every shard; their rows are kept for --resume
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait()
        raise
