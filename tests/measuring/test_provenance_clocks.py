"""A run records whether the CPU may turbo (boost) and the machine's load when it starts: either moves every
latency, and neither was recorded."""

import pytest

from fakes.sysfs import write_file
from hwprof.drivers.host import load_average_1m, turbo
from hwprof.measuring.provenance import collect_provenance

CPU = "sys/devices/system/cpu"


@pytest.mark.parametrize(
    ("path", "text", "said"),
    [
        ("intel_pstate/no_turbo", "1", "off"),
        ("intel_pstate/no_turbo", "0", "on"),
        ("cpufreq/boost", "1", "on"),
        ("cpufreq/boost", "0", "off"),
        ("cpufreq/boost", "maybe", "unreadable"),
    ],
)
def test_turbo_is_read_from_intel_pstate_or_cpufreq_boost(sysfs_root, path, text, said):
    write_file(sysfs_root / CPU / path, text + "\n")
    assert turbo() == said
    assert collect_provenance("cpu", 1, ["x"])["turbo"] == said


def test_turbo_without_either_file_is_unreadable(sysfs_root):
    assert turbo() == "unreadable"


def test_the_load_average_at_the_start_is_recorded(sysfs_root):
    write_file(sysfs_root / "proc" / "loadavg", "3.25 1.50 0.75 2/345 6789\n")
    assert collect_provenance("cpu", 1, ["x"])["load_average_1m"] == 3.25
    write_file(sysfs_root / "proc" / "loadavg", "\n")
    assert load_average_1m() == "unreadable"
