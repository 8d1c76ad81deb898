"""A resumed run's machine: a container gets a fresh random hostname on every start, so the kernel's boot id,
which every container on one machine shares until it reboots, tells that it is the same machine."""

from pathlib import Path

import pytest

from fakes.sysfs import write_file
from hwprof.measuring.provenance import boot_id, collect_provenance, same_machine

BOOT = "0b5e6f3c-1d2e-4f60-8a9b-0c1d2e3f4a5b"


def run(host="3f2a9c1d7b40", device_name="Fake CPU 9000", boot=BOOT):
    return {"device_name": device_name, "host": host, "boot_id": boot}


def test_the_provenance_records_the_kernels_boot_id(sysfs_root):
    write_file(sysfs_root / "proc" / "sys" / "kernel" / "random" / "boot_id", BOOT + "\n")
    assert boot_id() == BOOT
    assert collect_provenance("cpu", 1, ["hwprof"])["boot_id"] == BOOT


@pytest.mark.skipif(not Path("/proc/sys/kernel/random/boot_id").is_file(), reason="needs Linux's boot id")
def test_a_root_without_the_boot_id_reads_the_real_one(sysfs_root):
    assert boot_id() == Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def test_an_unreadable_boot_id_is_none(sysfs_root, monkeypatch):
    monkeypatch.setattr("hwprof.measuring.provenance.read_text", lambda path: None)
    assert boot_id() is None


def test_a_new_container_on_the_same_machine_is_the_same_machine():
    assert same_machine(run(), run())
    assert same_machine(run(), run(host="9e8d7c6b5a41"))  # a fresh hostname, the same boot
    assert same_machine(run(boot="a"), run(boot="b"))  # the same host rebooted
    assert same_machine({"device_name": "cpu", "host": "h"}, run(device_name="cpu", host="h"))  # from before boot ids


def test_another_machine_or_device_is_not():
    assert not same_machine(run(), run(host="9e8d7c6b5a41", boot="another boot"))
    assert not same_machine(run(), run(device_name="Other CPU"))
    assert not same_machine(run(boot=None), run(host="9e8d7c6b5a41", boot=None))  # unknown boots prove nothing
    assert not same_machine({"device_name": "cpu", "host": "a"}, run(device_name="cpu", host="b"))
