"""A tegrastats path given with a --power that never reads it (none, rapl, nvml) is refused, from the Python API as
from the command line: `hwprof.measure(..., tegrastats=p, power="none")` and `energy_window` dropped it silently."""

import pytest

import hwprof
from hwprof.drivers import open_sensor
from hwprof.errors import HwprofError


@pytest.mark.parametrize("power", ["none", "rapl", "nvml"])
def test_open_sensor_refuses_a_tegrastats_path_its_power_does_not_read(power, tmp_path):
    program = tmp_path / "tegrastats"
    program.write_text("")
    with pytest.raises(HwprofError, match=f"power={power} does not read it"):
        open_sensor(power, "cpu", str(program))


def test_the_energy_window_refuses_it_too(tmp_path):
    with pytest.raises(HwprofError, match="does not read it"):
        with hwprof.energy_window(power="none", tegrastats=str(tmp_path / "tegrastats")):
            pass


@pytest.mark.parametrize("power", ["auto", "jetson"])
def test_the_powers_that_read_it_are_not_refused_for_it(power, tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))  # no Jetson here: auto finds no sensor, jetson says why
    try:
        open_sensor(power, "cpu", str(tmp_path / "tegrastats")).close()
    except HwprofError as refused:
        assert "does not read it" not in str(refused)
