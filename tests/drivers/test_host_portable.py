"""Host facts on machines unlike the Linux x86 VM the suite runs on: Arm boards and servers, macOS, and a
container whose HWPROF_SYSFS_ROOT holds only the host's /sys."""

import platform
import subprocess
from pathlib import Path

import pytest

from fakes.sysfs import write_file
from hwprof.drivers import host

GRAVITON2 = "processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n"
PI4 = (
    "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n"
    "Hardware\t: BCM2835\nRevision\t: c03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
)


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    return tmp_path


def cpuinfo(root, text):
    write_file(root / "proc" / "cpuinfo", text)


def test_a_raspberry_pi_is_named_by_its_board_not_by_the_bcm2835_every_pi_reports(root):
    cpuinfo(root, PI4)
    assert host.cpu_model() == "Raspberry Pi 4 Model B Rev 1.4"


def test_a_jetson_is_named_by_its_device_tree_not_by_the_generic_armv8_model_name(root):
    cpuinfo(
        root, "processor\t: 0\nmodel name\t: ARMv8 Processor rev 1 (v8l)\nCPU implementer\t: 0x41\nCPU part\t: 0xd42\n"
    )
    (root / "proc" / "device-tree").mkdir()
    (root / "proc" / "device-tree" / "model").write_bytes(b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    assert host.cpu_model() == "NVIDIA Jetson AGX Orin Developer Kit"


def test_arm_servers_without_a_model_name_are_told_apart_by_their_cores(root):
    cpuinfo(root, GRAVITON2 + "\n" + GRAVITON2.replace("0: 0", "0: 1"))
    assert host.cpu_model() == "Arm Neoverse-N1"
    cpuinfo(root, GRAVITON2.replace("0xd0c", "0xd40"))
    assert host.cpu_model() == "Arm Neoverse-V1"
    cpuinfo(root, GRAVITON2.replace("0xd0c", "0xfff"))  # a part the table does not know keeps its code
    assert host.cpu_model() == "Arm part 0xfff"


def test_big_little_cores_are_each_named_once_and_a_soc_gets_its_cores(root):
    little = "processor\t: {}\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
    big = "processor\t: {}\nCPU implementer\t: 0x41\nCPU part\t: 0xd41\n\n"
    cores = little.format(0) + little.format(1) + big.format(2)
    cpuinfo(root, cores)
    assert host.cpu_model() == "Arm Cortex-A55 + Cortex-A78"
    cpuinfo(root, cores + "Hardware\t: Qualcomm Technologies, Inc SM8250\n")
    assert host.cpu_model() == "Qualcomm Technologies, Inc SM8250 (Arm Cortex-A55 + Cortex-A78)"


def test_an_x86_model_name_is_kept_whatever_else_the_machine_says(root):
    name = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    cpuinfo(root, f"processor\t: 0\nmodel name\t: {name}\nflags\t\t: fpu\n")
    write_file(root / "sys" / "firmware" / "devicetree" / "base" / "model", "Some Board\n")
    assert host.cpu_model() == name


def test_macos_is_named_by_its_brand_string(root, monkeypatch):
    cpuinfo(root, "processor\t: 0\n")  # no /proc on macOS: nothing of the real one may leak in
    monkeypatch.setattr(host.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(host.platform, "processor", lambda: "arm")
    asked = []

    def sysctl(argv, **kwargs):
        asked.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout="Apple M2 Pro\n", stderr="")

    monkeypatch.setattr(host.subprocess, "run", sysctl)
    host._mac_brand_string.cache_clear()
    try:
        assert host.cpu_model() == "Apple M2 Pro"
        assert asked == [["sysctl", "-n", "machdep.cpu.brand_string"]]
    finally:
        host._mac_brand_string.cache_clear()


real_cpuinfo = pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="needs a real /proc/cpuinfo")


@real_cpuinfo
def test_a_root_holding_only_sys_reads_the_cpu_from_the_real_proc(tmp_path, monkeypatch):
    monkeypatch.delenv("HWPROF_SYSFS_ROOT", raising=False)
    name, virtual = host.cpu_model(), host.is_virtual_machine()
    write_file(tmp_path / "sys" / "class" / "powercap" / "README", "the host's /sys\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    assert (host.cpu_model(), host.is_virtual_machine()) == (name, virtual)
    assert name != platform.machine()  # what the root without proc/ made of it
    cpuinfo(tmp_path, "model name\t: Fake CPU 9000\nflags\t\t: fpu hypervisor\n")  # a fake tree is still read
    assert (host.cpu_model(), host.is_virtual_machine()) == ("Fake CPU 9000", True)


def test_a_root_without_the_cgroup_file_reads_the_process_cgroup_and_its_tree_from_the_real_side(root, monkeypatch):
    write_file(root / "sys" / "fs" / "cgroup" / "box" / "cpu.max", "50000 100000\n")  # the host's tree: not ours
    real = {"/proc/self/cgroup": "0::/box", "/sys/fs/cgroup/box/cpu.max": "150000 100000"}
    read = host.read_text

    def read_text(path):
        full = str(host.sysfs_path(path) if isinstance(path, str) else path)
        return real[full] if full in real else read(path)

    monkeypatch.setattr(host, "read_text", read_text)
    assert host.cpu_quota() == 1.5


def test_rapl_on_arm_says_it_is_an_x86_interface_and_names_the_boards_sensor(root, monkeypatch):
    cpuinfo(root, GRAVITON2)
    monkeypatch.setattr(host.platform, "system", lambda: "Linux")
    monkeypatch.setattr(host.platform, "machine", lambda: "aarch64")
    reason = host.no_rapl_reason()
    assert "x86" in reason and "aarch64" in reason and "latency only" in reason
    assert "modprobe" not in reason and "jetson" not in reason
    write_file(root / "etc" / "nv_tegra_release", "# R35 (release), REVISION: 4.1\n")
    reason = host.no_rapl_reason()
    assert "x86" in reason and "--power jetson" in reason and "modprobe" not in reason
