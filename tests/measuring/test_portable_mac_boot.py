"""macOS has no /proc boot id, and a Mac's hostname follows the network it joins (DHCP, a VPN): its boot session
UUID tells that a run resumed under a new hostname is on the same machine, and a refusal where the device names
match says that the host and boot differ rather than naming one device as two."""

import subprocess
import sys

import pytest

from hwprof.measuring import provenance
from hwprof.measuring.provenance import boot_id, other_machine, same_machine

SESSION = "6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"


@pytest.fixture
def mac(monkeypatch):
    """The platform of macOS, whose sysctl answers with `answer` (a CompletedProcess, or an error to raise)."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(provenance, "read_text", lambda path: None)  # no /proc on macOS
    asked = []

    def answer_with(answer):
        def run(argv, **kwargs):
            asked.append(argv)
            if isinstance(answer, Exception):
                raise answer
            return answer

        monkeypatch.setattr(provenance.subprocess, "run", run)
        return asked

    return answer_with


def test_macos_boot_id_is_its_boot_session_uuid(mac):
    asked = mac(subprocess.CompletedProcess([], 0, stdout=SESSION + "\n", stderr=""))
    assert boot_id() == SESSION
    assert asked == [["sysctl", "-n", "kern.bootsessionuuid"]]


@pytest.mark.parametrize(
    "answer",
    [
        subprocess.CompletedProcess([], 1, stdout="", stderr="sysctl: unknown oid"),
        subprocess.CompletedProcess([], 0, stdout="\n", stderr=""),
        subprocess.TimeoutExpired("sysctl", 5),
        FileNotFoundError(2, "No such file or directory: 'sysctl'"),
    ],
)
def test_a_boot_session_sysctl_cannot_tell_is_none(mac, answer):
    mac(answer)
    assert boot_id() is None


def test_a_mac_renamed_by_its_network_in_the_same_boot_is_the_same_machine(mac):
    mac(subprocess.CompletedProcess([], 0, stdout=SESSION + "\n", stderr=""))
    before = {"device_name": "Apple M2 Pro", "host": "Johns-MacBook-Pro.local", "boot_id": boot_id()}
    now = {"device_name": "Apple M2 Pro", "host": "johns-mbp.lan", "boot_id": boot_id()}
    assert same_machine(before, now)


def test_a_refusal_on_one_device_name_says_the_host_and_boot_differ():
    before = {"device_name": "AMD EPYC", "host": "a", "boot_id": "boot-1"}
    said = other_machine(before, {"device_name": "AMD EPYC", "host": "b", "boot_id": "boot-2"})
    assert said == "on host a, not on this host b, and in another boot than this one"
    said = other_machine(before, {"device_name": "AMD EPYC", "host": "b", "boot_id": None})
    assert "not on this AMD EPYC" not in said and "host b" in said and "no boot id" in said
    said = other_machine(before, {"device_name": "Intel Xeon", "host": "b", "boot_id": "boot-1"})
    assert said == "on AMD EPYC (host a), not on this Intel Xeon (host b)"
