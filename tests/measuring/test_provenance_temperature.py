"""A run records its CPU's temperature at its start, since a hot CPU clocks itself down: the kernel's x86_pkg_temp
thermal zones, else AMD's k10temp Tctl, else Intel's coretemp package sensors, the hottest package where there are
several; None where the host exposes none of them, never a guess."""

from click.testing import CliRunner

import hwprof
from fakes.sysfs import write_file
from hwprof.cli import main
from hwprof.dataset import read_provenance
from hwprof.drivers.host import cpu_temperature_c
from hwprof.measuring.provenance import collect_provenance


def thermal_zone(root, number, kind, millidegrees):
    write_file(root / "sys" / "class" / "thermal" / f"thermal_zone{number}" / "type", f"{kind}\n")
    write_file(root / "sys" / "class" / "thermal" / f"thermal_zone{number}" / "temp", f"{millidegrees}\n")


def hwmon(root, number, name, sensors):
    folder = root / "sys" / "class" / "hwmon" / f"hwmon{number}"
    write_file(folder / "name", f"{name}\n")
    for index, (label, millidegrees) in enumerate(sensors, start=1):
        write_file(folder / f"temp{index}_label", f"{label}\n")
        write_file(folder / f"temp{index}_input", f"{millidegrees}\n")


def test_the_hottest_x86_package_zone_is_recorded_at_the_start(sysfs_root):
    thermal_zone(sysfs_root, 0, "acpitz", 90000)  # the board's, not the CPU's
    thermal_zone(sysfs_root, 1, "x86_pkg_temp", 58000)
    thermal_zone(sysfs_root, 2, "x86_pkg_temp", 61500)
    assert collect_provenance("cpu", 1, ["x"])["cpu_temperature_start_c"] == 61.5


def test_amd_tctl_is_read_from_k10temp(sysfs_root):
    hwmon(sysfs_root, 0, "nvme", [("Composite", 40000)])
    hwmon(sysfs_root, 1, "k10temp", [("Tctl", 72250), ("Tccd1", 80000)])
    assert cpu_temperature_c() == 72.25


def test_intel_package_is_read_from_coretemp(sysfs_root):
    hwmon(sysfs_root, 0, "coretemp", [("Package id 0", 55000), ("Core 0", 70000), ("Core 1", 69000)])
    assert cpu_temperature_c() == 55.0


def test_no_cpu_sensor_or_a_garbled_one_records_none(sysfs_root):
    assert collect_provenance("cpu", 1, ["x"])["cpu_temperature_start_c"] is None
    thermal_zone(sysfs_root, 0, "acpitz", 45000)
    thermal_zone(sysfs_root, 1, "x86_pkg_temp", "")
    hwmon(sysfs_root, 0, "nvme", [("Composite", 40000)])
    assert cpu_temperature_c() is None


def test_a_run_records_the_temperature_at_its_end_in_memory_and_in_its_file(sysfs_root, tmp_path):
    thermal_zone(sysfs_root, 0, "x86_pkg_temp", 61500)
    run = {"max_item_s": 0.05, "sweep_share": 0, "power": "none", "max_other_share": 1.0, "seed": 0, "layers": False}
    (in_memory,) = hwprof.measure("mlp", **run).attrs["provenance"]
    hwprof.measure("mlp", out=tmp_path / "m.parquet", **run)
    (in_file,) = read_provenance(tmp_path / "m.parquet")
    assert in_memory["cpu_temperature_end_c"] == in_file["cpu_temperature_end_c"] == 61.5


def test_a_command_run_records_the_temperature_at_its_end(sysfs_root, tmp_path):
    thermal_zone(sysfs_root, 0, "x86_pkg_temp", 48000)
    result = CliRunner().invoke(main, ["run", "--idle-s", "0", "--out", str(tmp_path / "r.parquet"), "--", "true"])
    assert result.exit_code == 0, result.output
    (run,) = read_provenance(tmp_path / "r.parquet")
    assert run["cpu_temperature_start_c"] == run["cpu_temperature_end_c"] == 48.0
