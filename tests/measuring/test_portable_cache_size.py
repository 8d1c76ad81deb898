"""macOS and Windows have no sysfs: cold mode reads their cache size from sysctl and from
GetLogicalProcessorInformation, rather than assuming 256 MiB and copying every small layer 256 times."""

import ctypes
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from hwprof.measuring import cache
from hwprof.measuring.cache import ASSUMED_CACHE_BYTES, cache_bytes, copies_for

CPU = torch.device("cpu")
ASSUMED = (ASSUMED_CACHE_BYTES, "assumed (the cache size is not readable here)")


@pytest.fixture
def no_sysfs(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))  # no cache files, as on macOS and Windows
    return monkeypatch


def fake_sysctl(monkeypatch, answers: dict[str, str]):
    """sysctl answering `answers` by name, and failing as macOS does for a name it does not know."""
    asked = []

    def run(argv, **kwargs):
        asked.append(argv[-1])
        if argv[-1] in answers:
            return subprocess.CompletedProcess(argv, 0, stdout=answers[argv[-1]] + "\n", stderr="")
        return subprocess.CompletedProcess(argv, 1, stdout="", stderr=f"sysctl: unknown oid '{argv[-1]}'\n")

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(cache.subprocess, "run", run)
    return asked


def test_apple_silicon_takes_its_performance_cores_l2(no_sysfs):
    fake_sysctl(no_sysfs, {"hw.perflevel0.l2cachesize": "16777216", "hw.l2cachesize": "4194304"})
    assert cache_bytes(CPU) == (16 * 2**20, "sysctl hw.perflevel0.l2cachesize")


def test_an_intel_mac_takes_its_l3(no_sysfs):
    fake_sysctl(no_sysfs, {"hw.l3cachesize": "12582912", "hw.l2cachesize": "262144"})
    size, source = cache_bytes(CPU)
    assert (size, source) == (12 * 2**20, "sysctl hw.l3cachesize")
    assert copies_for(1_607_680, size) == 16  # a 1.6 MB layer; 256 copies with the assumed size


def test_a_mac_whose_sysctl_tells_nothing_assumes(no_sysfs):
    asked = fake_sysctl(no_sysfs, {"hw.l2cachesize": "0"})
    assert cache_bytes(CPU) == ASSUMED
    assert asked == ["hw.perflevel0.l2cachesize", "hw.l3cachesize", "hw.l2cachesize"]


def fake_kernel32(caches: list[int], others: int = 2):
    """GetLogicalProcessorInformation listing `others` entries that are not caches, then one per size."""

    def get(entries, length):
        count = others + len(caches)
        if entries is None or len(entries) < count:
            length.contents.value = count * ctypes.sizeof(cache._LogicalProcessorInformation)
            return 0
        for index, size in enumerate(caches, start=others):
            entries[index].relationship = cache.RELATION_CACHE
            entries[index].described.cache.level = 3
            entries[index].described.cache.size = size
        return 1

    return SimpleNamespace(kernel32=SimpleNamespace(GetLogicalProcessorInformation=get))


def test_windows_takes_the_largest_cache_the_processor_information_lists(no_sysfs):
    no_sysfs.setattr(sys, "platform", "win32")
    no_sysfs.setattr(ctypes, "windll", fake_kernel32([32 * 2**10, 256 * 2**10, 9 * 2**20]), raising=False)
    assert cache_bytes(CPU) == (9 * 2**20, "GetLogicalProcessorInformation")
    no_sysfs.setattr(ctypes, "windll", fake_kernel32([]), raising=False)
    assert cache_bytes(CPU) == ASSUMED


def test_without_windll_windows_assumes(no_sysfs):
    no_sysfs.setattr(sys, "platform", "win32")
    no_sysfs.delattr(ctypes, "windll", raising=False)
    assert cache_bytes(CPU) == ASSUMED
