"""The mainline ina3221 hwmon driver (JetPack 5 and later) adds channel 7, "sum of shunt voltages", beside the three
rails: it is not a rail, so it is neither listed nor reported unreadable (it has no curr7_input)."""

from fakes.sysfs import write_file, write_ina3221_hwmon
from hwprof.drivers.jetson import Ina3221Sensor, discover_ina3221


def with_summing_channel(chip):
    """What the mainline driver writes besides the rails: shunt voltages, and the summing channel's files."""
    for channel in (4, 5, 6):
        write_file(chip / f"in{channel}_input", "1\n")
    write_file(chip / "in7_label", "sum of shunt voltages\n")
    write_file(chip / "in7_input", "3\n")
    write_file(chip / "curr4_input", "1500\n")


def test_the_summing_channel_is_not_a_rail(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    rails = {"VDD_GPU_SOC": (19000, 210), "VDD_CPU_CV": (19000, 42), "VIN_SYS_5V0": (5000, 686)}
    with_summing_channel(write_ina3221_hwmon(tmp_path, rails))
    with_summing_channel(write_ina3221_hwmon(tmp_path, {"NC": (0, 0), "VDDQ_VDD2_1V8AO": (5000, 80)}, index=2))
    assert [rail.name for rail in discover_ina3221()] == [*rails, "VDDQ_VDD2_1V8AO"]
    sensor = Ina3221Sensor()
    assert sensor.metadata()["unreadable_rails"] == {}
    assert sensor.source == "ina3221:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"


def test_a_rail_channel_without_its_current_file_is_still_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    chip = write_ina3221_hwmon(
        tmp_path, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)}
    )
    with_summing_channel(chip)
    (chip / "curr3_input").unlink()
    errors = {rail.name: rail.error for rail in discover_ina3221()}
    assert list(errors) == ["VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"]
    assert "has no curr3_input file" in errors["VDD_SOC"]
