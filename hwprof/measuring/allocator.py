"""Pin the C allocator, so a network's CPU latency does not depend on what ran before it.

glibc's malloc hands large freed blocks back to the kernel and adapts its
thresholds to the largest block freed so far in the process. A network's
activations are then either reused or faulted in and zeroed afresh on every
inference, depending on which networks the process ran before: on a 2-core
virtual machine mobilenet_v2 ran 20-25 ms with freed memory kept and 27-41 ms
without (bench/fresh_memory.py).

Policies:
- "steady": freed memory stays in the process (no block mapped on its own, no
  trimming). Every network is timed in the steady state of a long-running
  inference process with a caching allocator (jemalloc, tcmalloc, PyTorch's
  CUDA caching allocator), whatever the order of measurement.
- "system": the allocator as the process found it. After "steady" in the same
  process, glibc's default thresholds are put back (its adaptive mmap threshold,
  switched off by any mallopt, stays off: the threshold is fixed at its default).

The setting is process-wide: it holds for the host program too until changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

POLICIES = ("steady", "system")
DEFAULT_POLICY = "steady"

# mallopt parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
STEADY_SETTINGS = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1, M_TOP_PAD: 64 << 20}
# glibc's defaults (mallopt(3)), which "system" puts back after "steady"
GLIBC_DEFAULTS = {M_MMAP_MAX: 65536, M_TRIM_THRESHOLD: 128 << 10, M_TOP_PAD: 128 << 10, M_MMAP_THRESHOLD: 128 << 10}

_pinned_in = None  # the C library "steady" pinned in this process, if any: "system" unpins it there


def _libc():
    """The C library if it has glibc's mallopt, else None: the library find_library names, else the process's own
    symbols, where glibc is loaded but nothing tells find_library its name (no ldconfig or gcc: distroless
    containers, NixOS)."""
    for name in dict.fromkeys((ctypes.util.find_library("c"), None)):
        try:
            libc = ctypes.CDLL(name)
            libc.gnu_get_libc_version  # glibc only: other C libraries' mallopt takes other parameters
        except (OSError, AttributeError, TypeError):  # TypeError: Windows has no process-wide handle
            continue
        if hasattr(libc, "mallopt"):
            return libc
    return None


def pin_allocator(policy: str = DEFAULT_POLICY, libc=None) -> dict:
    """Apply `policy`; returns what was done, for the dataset's provenance."""
    if policy not in POLICIES:
        raise ValueError(f"allocator policy {policy!r}: choose from {', '.join(POLICIES)}")
    global _pinned_in
    if policy == "system":
        return _unpin()
    libc = libc if libc is not None else _libc()
    if libc is None:
        return {
            "policy": policy,
            "applied": False,
            "unavailable_reason": "the C library is not glibc, so its allocator is left as it is and "
            "latencies may depend on what the process ran before",
        }
    refused = [parameter for parameter, value in STEADY_SETTINGS.items() if libc.mallopt(parameter, value) != 1]
    if refused:
        return {
            "policy": policy,
            "applied": False,
            "unavailable_reason": f"glibc refused mallopt parameter(s) {refused}",
        }
    _pinned_in = libc
    return {"policy": policy, "applied": True}


def _unpin() -> dict:
    """ "system": glibc's defaults back where "steady" pinned this process before, else nothing touched."""
    global _pinned_in
    if _pinned_in is None:
        return {"policy": "system", "applied": True}
    refused = [parameter for parameter, value in GLIBC_DEFAULTS.items() if _pinned_in.mallopt(parameter, value) != 1]
    if refused:
        return {
            "policy": "system",
            "applied": False,
            "unavailable_reason": f"glibc refused to restore mallopt parameter(s) {refused}, so the allocator "
            "stays as an earlier steady measure in this process pinned it",
        }
    _pinned_in = None
    return {"policy": "system", "applied": True}
