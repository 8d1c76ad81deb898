"""Cold-cache timing of isolated layers: rotate through copies of a layer's buffers.

A layer timed alone reuses the same input and weights on every call, so one that
fits in a cache (a CPU core's 1-2 MB of L2, tens of MB of L3, 40-50 MB of L2 on
recent GPUs) runs cache-hot, while in a network the previous layers have evicted it.
In "cold" mode each call uses the next of several copies of the layer (weights
and inputs), enough of them to hold COLD_FACTOR times the cache, so a buffer has
left the cache by the time it comes round again. No flush runs inside the timed
loop. All of a group's layers are held at once (they are timed interleaved), so
their copies together take at most COLD_MEMORY_SHARE of the free memory; a layer
left with fewer copies than it needs (or over MAX_COPIES) says "cold_partial".

Cold is the default because a network's layers timed cold add up to it more
closely: over fifteen networks of nine families, measured both ways in turn
three times, a network took 0.98-1.62x the sum of its layers timed warm and
0.94-1.32x timed cold (BENCHMARKS.md, "on the data a user collects by default").
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hwprof.drivers.host import cpu_names, sysfs_path

if TYPE_CHECKING:  # torch is imported where a layer is timed: show and report read CACHE_MODES without it
    import torch

CACHE_MODES = ("warm", "cold")
COLD_FACTOR = 2  # copies together hold this many times the cache
MAX_COPIES = 256  # bounds the setup time and memory of layers far smaller than the cache
COLD_MEMORY_SHARE = 0.25  # of the free memory, for all the copies of one group's layers
ASSUMED_CACHE_BYTES = 256 * 2**20  # above the last-level cache of common CPUs, where sysfs does not say


def _size_bytes(text: str) -> int | None:
    text = text.strip().upper()
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return int(text) if text.isdigit() else None


def cache_bytes(device: torch.device) -> tuple[int, str]:
    """Size of the device's last-level cache and where the figure comes from."""
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
    return ASSUMED_CACHE_BYTES, "assumed (the cache size is not readable here)"


def copies_for(layer_bytes: int, cache_size: int) -> int:
    """How many copies of a layer's buffers push each one out of the cache before its next use."""
    return min(MAX_COPIES, max(2, math.ceil(COLD_FACTOR * cache_size / max(layer_bytes, 1))))


def rotating_call(
    call, device: torch.device, layer_bytes: int, cache_size: int, max_copies: int = MAX_COPIES
) -> tuple[Callable[[], Any], str, int]:
    """A runner that uses the next copy of the layer on every call, its cache label and its copy count."""
    import torch

    copies = max(2, min(copies_for(layer_bytes, cache_size), max_copies))
    module = isinstance(call.target, torch.nn.Module)
    runners = call.bind_copies(device, [copy.deepcopy(call.target) if module else call.target for _ in range(copies)])
    label = "cold" if copies * layer_bytes >= COLD_FACTOR * cache_size else "cold_partial"
    turn = itertools.cycle(runners).__next__

    def run() -> Any:
        return turn()()

    return run, label, copies
