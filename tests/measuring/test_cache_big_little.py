"""The cache cold mode outgrows is the largest any CPU has: on a big.LITTLE board cpu0 is usually a little core
with the smaller cache."""

import torch

from fakes.sysfs import write_file
from hwprof.measuring.cache import cache_bytes


def caches(root, cpu, *sizes):
    for index, size in enumerate(sizes):
        write_file(root / "sys" / "devices" / "system" / "cpu" / cpu / "cache" / f"index{index}" / "size", size + "\n")


def test_the_largest_cache_of_any_cpu_is_taken(sysfs_root):
    for cpu in ("cpu0", "cpu1"):
        caches(sysfs_root, cpu, "32K", "32K", "512K")  # little cores
    for cpu in ("cpu4", "cpu10"):
        caches(sysfs_root, cpu, "64K", "64K", "2048K")  # big cores
    assert cache_bytes(torch.device("cpu")) == (2048 * 2**10, "sysfs cpu4 cache")


def test_cpus_alike_name_cpu0_as_before(sysfs_root):
    for cpu in ("cpu0", "cpu1"):
        caches(sysfs_root, cpu, "48K", "32K", "1280K", "54M")
    assert cache_bytes(torch.device("cpu")) == (54 * 2**20, "sysfs cpu0 cache")
