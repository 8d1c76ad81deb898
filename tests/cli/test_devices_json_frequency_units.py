"""`devices --json` gives the CPU's scaling limits as numbers with their unit in the key, not cpufreq's text."""

import json

from click.testing import CliRunner

from fakes.sysfs import write_file
from hwprof.cli import main


def cpu_entry(sysfs_root, monkeypatch):
    monkeypatch.setenv("PATH", str(sysfs_root / "bin"))  # no tegrastats or nvidia-smi of the machine's
    result = CliRunner().invoke(main, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    (cpu,) = [device for device in json.loads(result.stdout)["devices"] if device["kind"] == "cpu"]
    return cpu


def test_scaling_limits_are_numbers_of_khz(sysfs_root, monkeypatch):
    cpufreq = sysfs_root / "sys" / "devices" / "system" / "cpu" / "cpu0" / "cpufreq"
    for name, text in (
        ("scaling_governor", "powersave"),
        ("scaling_min_freq", "800000"),
        ("scaling_max_freq", "3000000"),
    ):
        write_file(cpufreq / name, text + "\n")
    cpu = cpu_entry(sysfs_root, monkeypatch)
    assert cpu["scaling_min_freq_khz"] == 800000 and cpu["scaling_max_freq_khz"] == 3000000
    assert "scaling_min_freq" not in cpu and "scaling_max_freq" not in cpu
    assert cpu["scaling_governor"] == "powersave"
    assert "governor powersave" in CliRunner().invoke(main, ["devices"]).output


def test_an_unreadable_limit_is_left_out(sysfs_root, monkeypatch):
    write_file(
        sysfs_root / "sys" / "devices" / "system" / "cpu" / "cpu0" / "cpufreq" / "scaling_max_freq", "<unknown>\n"
    )
    cpu = cpu_entry(sysfs_root, monkeypatch)
    assert "scaling_max_freq_khz" not in cpu and "scaling_max_freq" not in cpu
