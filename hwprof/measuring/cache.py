"""Cold-cache timing of isolated layers: rotate through copies of a layer's buffers.

A layer timed alone reuses the same input and weights on every call, so one that
fits in a cache (a CPU core's 1-2 MB of L2, tens of MB of L3, 40-50 MB of L2 on
recent GPUs) runs cache-hot, while in a network the previous layers have evicted it.
In "cold" mode each call uses the next of several copies of the layer (weights
and inputs), enough of them to hold COLD_FACTOR times the cache, so a buffer has
left the cache by the time it comes round again. No flush runs inside the timed
loop. All of a group's layers are held at once (they are timed interleaved), so
their copies together take at most COLD_MEMORY_SHARE of the free memory; a layer
left with fewer copies than it needs (or over MAX_COPIES) says "cold_partial"; one left no room for two copies
is timed on its own buffers, also "cold_partial", and the run notes it.

Cold is the default because a network's layers timed cold add up to it more
closely: over fifteen networks of nine families, measured both ways in turn
three times, a network took 0.98-1.62x the sum of its layers timed warm and
0.94-1.32x timed cold (BENCHMARKS.md, "on the data a user collects by default").
"""

from __future__ import annotations

import copy
import ctypes
import itertools
import math
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hwprof.drivers.host import cpu_names, sysfs_path
from hwprof.errors import warn

if TYPE_CHECKING:  # torch is imported where a layer is timed: show and report read CACHE_MODES without it
    import torch

CACHE_MODES = ("warm", "cold")
COLD_FACTOR = 2  # copies together hold this many times the cache
MAX_COPIES = 256  # bounds the setup time and memory of layers far smaller than the cache
COLD_MEMORY_SHARE = 0.25  # of the free memory, for all the copies of one group's layers
ASSUMED_CACHE_BYTES = 256 * 2**20  # above the last-level cache of common CPUs, where the OS does not say
# macOS's cache sizes, the largest present taken: an Intel Mac's L3, Apple silicon's performance cores' L2 (its
# plain hw.l2cachesize is the efficiency cores'), and the L2 of a Mac that has neither
MAC_CACHE_SYSCTLS = ("hw.perflevel0.l2cachesize", "hw.l3cachesize", "hw.l2cachesize")
RELATION_CACHE = 2  # Windows' LOGICAL_PROCESSOR_RELATIONSHIP of an entry describing a cache


class _CacheDescriptor(ctypes.Structure):
    """Windows' CACHE_DESCRIPTOR."""

    _fields_ = [
        ("level", ctypes.c_ubyte),
        ("associativity", ctypes.c_ubyte),
        ("line_size", ctypes.c_ushort),
        ("size", ctypes.c_uint32),
        ("type", ctypes.c_int),
    ]


class _Described(ctypes.Union):
    """The union of SYSTEM_LOGICAL_PROCESSOR_INFORMATION; its other members fit in `reserved`."""

    _fields_ = [("cache", _CacheDescriptor), ("reserved", ctypes.c_ulonglong * 2)]


class _LogicalProcessorInformation(ctypes.Structure):
    """Windows' SYSTEM_LOGICAL_PROCESSOR_INFORMATION, one entry of GetLogicalProcessorInformation's list."""

    _fields_ = [("processor_mask", ctypes.c_size_t), ("relationship", ctypes.c_int), ("described", _Described)]


def _size_bytes(text: str) -> int | None:
    text = text.strip().upper()
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return int(text) if text.isdigit() else None


def cache_bytes(device: torch.device) -> tuple[int, str]:
    """Size of the device's last-level cache and where the figure comes from: CUDA's L2; a CPU's from sysfs, else
    from macOS's sysctl or Windows' processor information, assumed only where none of them tells."""
    if device.type == "cuda":
        import torch

        size = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0)
        if size:
            return int(size), "cuda L2_cache_size"
    else:  # every CPU's, as a big.LITTLE board's cpu0 is usually a little core with the smaller cache
        sizes = []
        for cpu in cpu_names():
            for path in sysfs_path(f"/sys/devices/system/cpu/{cpu}/cache").glob("index*/size"):
                try:
                    size = _size_bytes(path.read_text())
                except OSError:
                    continue
                if size:
                    sizes.append((size, cpu))
        if sizes:
            size, cpu = max(sizes, key=lambda found: found[0])  # the first CPU that has it: cpu0 where all alike
            return size, f"sysfs {cpu} cache"
        if sys.platform == "darwin" and (found := _mac_cache_bytes()):
            return found
        if sys.platform == "win32" and (found := _windows_cache_bytes()):
            return found
    return ASSUMED_CACHE_BYTES, "assumed (the cache size is not readable here)"


def _mac_cache_bytes() -> tuple[int, str] | None:
    """The largest of macOS's cache sizes (MAC_CACHE_SYSCTLS) and its sysctl name; None where none is read."""
    found = []
    for name in MAC_CACHE_SYSCTLS:
        try:
            done = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        text = done.stdout.strip()
        if done.returncode == 0 and text.isdigit() and int(text):
            found.append((int(text), f"sysctl {name}"))
    return max(found, key=lambda size: size[0]) if found else None


def _windows_cache_bytes() -> tuple[int, str] | None:
    """The largest cache GetLogicalProcessorInformation lists; None where it cannot be read."""
    try:
        kernel32 = ctypes.windll.kernel32
    except AttributeError:
        return None
    entry = ctypes.sizeof(_LogicalProcessorInformation)
    length = ctypes.c_uint32(0)
    kernel32.GetLogicalProcessorInformation(None, ctypes.pointer(length))  # fails, saying the length it needs
    entries = (_LogicalProcessorInformation * (length.value // entry))()
    if not entries or not kernel32.GetLogicalProcessorInformation(entries, ctypes.pointer(length)):
        return None
    listed = entries[: length.value // entry]
    sizes = [info.described.cache.size for info in listed if info.relationship == RELATION_CACHE]
    return (max(sizes), "GetLogicalProcessorInformation") if any(sizes) else None


def copies_for(layer_bytes: int, cache_size: int) -> int:
    """How many copies of a layer's buffers push each one out of the cache before its next use."""
    return min(MAX_COPIES, max(2, math.ceil(COLD_FACTOR * cache_size / max(layer_bytes, 1))))


def rotating_call(
    call, device: torch.device, layer_bytes: int, cache_size: int, max_copies: int = MAX_COPIES
) -> tuple[Callable[[], Any], str, int]:
    """A runner that uses the next copy of the layer on every call, its cache label and its copy count. Where the
    memory allows fewer than two copies the layer runs on its own buffers, copied 0 times, as cold_partial."""
    import torch

    if max_copies < 2:  # two copies would overrun the memory share (OOM-killed in a container): time it in place
        warn(
            "a layer's two copies for cold timing would take more than the quarter of the free memory left to "
            "them, so it is timed on its own buffers (cache column: cold_partial)"
        )
        return call.bind(device), "cold_partial", 0
    copies = min(copies_for(layer_bytes, cache_size), max_copies)
    module = isinstance(call.target, torch.nn.Module)
    runners = call.bind_copies(device, [copy.deepcopy(call.target) if module else call.target for _ in range(copies)])
    label = "cold" if copies * layer_bytes >= COLD_FACTOR * cache_size else "cold_partial"
    turn = itertools.cycle(runners).__next__

    def run() -> Any:
        return turn()()

    return run, label, copies
