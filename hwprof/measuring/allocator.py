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
Where another allocator serves malloc (jemalloc, tcmalloc or mimalloc given in
LD_PRELOAD), mallopt reaches only glibc's unused one: nothing is pinned, and the
record names the library that serves malloc instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re

from hwprof.schema import ALLOCATOR_POLICIES

DEFAULT_POLICY = ALLOCATOR_POLICIES[0]

# mallopt parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
STEADY_SETTINGS = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1, M_TOP_PAD: 64 << 20}
# glibc's defaults (mallopt(3)), which "system" puts back after "steady"
GLIBC_DEFAULTS = {M_MMAP_MAX: 65536, M_TRIM_THRESHOLD: 128 << 10, M_TOP_PAD: 128 << 10, M_MMAP_THRESHOLD: 128 << 10}

_pinned_in = None  # the C library "steady" pinned in this process, if any: "system" unpins it there
# allocators that replace glibc's malloc when preloaded: told from LD_PRELOAD where the process cannot say
PRELOADED_ALLOCATOR = re.compile(r"jemalloc|tcmalloc|mimalloc", re.IGNORECASE)


class _DlInfo(ctypes.Structure):
    """dladdr's Dl_info: the file and symbol an address lies in."""

    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def _file_of(process, function) -> str | None:
    """The file of the loaded library holding `function` (a ctypes function of `process`), None where dladdr
    cannot tell."""
    info = _DlInfo()
    if not process.dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.fsdecode(info.dli_fname)


def malloc_library() -> str | None:
    """The file of the library serving this process's malloc where it is not glibc (a preloaded jemalloc,
    tcmalloc or mimalloc), None where glibc serves it. Asked of the dynamic linker (the files holding the
    process's malloc and glibc's gnu_get_libc_version), else told from LD_PRELOAD's names."""
    try:
        process = ctypes.CDLL(None)
        served, glibc = _file_of(process, process.malloc), _file_of(process, process.gnu_get_libc_version)
    except (OSError, AttributeError, TypeError):  # no dladdr, no glibc, or no process-wide handle (Windows)
        served = glibc = None
    if served and glibc:
        return None if os.path.realpath(served) == os.path.realpath(glibc) else served
    preloaded = re.split(r"[:\s]+", os.environ.get("LD_PRELOAD", ""))
    return next((path for path in preloaded if PRELOADED_ALLOCATOR.search(os.path.basename(path))), None)


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
    if policy not in ALLOCATOR_POLICIES:
        raise ValueError(f"allocator policy {policy!r}: choose from {', '.join(ALLOCATOR_POLICIES)}")
    global _pinned_in
    foreign = malloc_library()
    library = {"library": os.path.basename(foreign)} if foreign else {}
    if policy == "system":
        return _unpin() | library
    if foreign:
        return {
            "policy": policy,
            "applied": False,
            "unavailable_reason": f"malloc is served by {library['library']}, not glibc, so mallopt cannot pin "
            "it: the latencies are that allocator's",
            **library,
        }
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
