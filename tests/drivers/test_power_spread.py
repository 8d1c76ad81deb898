"""power_spread and load_unstable from every sensor that sees two halves of a load window, not only NVML's."""

import time

import pytest

from fakes.scripted_sensor import ScriptedSensor
from fakes.sysfs import FakeRaplTree, FakeZone, write_atomically, write_ina3221_hwmon
from hwprof.drivers.jetson import Ina3221Sensor
from hwprof.drivers.rapl import RaplSensor
from hwprof.measuring.energy import LOAD_SPREAD_TOLERANCE, measure_energy, window_state


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_rapl_gives_the_power_of_each_half_of_a_window(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 20.0)]) as tree:
        with RaplSensor() as sensor:
            sensor.start_window()
            time.sleep(0.4)
            steady = sensor.stop_window()
            sensor.start_window()
            time.sleep(0.4)
            tree.set_power("intel-rapl:0", 30.0)
            time.sleep(0.4)
            stepped = sensor.stop_window()
    assert steady.metadata["power_w_halves"] == pytest.approx([20.0, 20.0], rel=0.03)
    assert window_state(steady)["power_spread"] < 0.03
    first, second = stepped.metadata["power_w_halves"]
    assert first == pytest.approx(20.0, abs=2.0) and second == pytest.approx(30.0, abs=2.0)
    assert window_state(stepped)["power_spread"] > 0.2


def test_ina3221_samples_give_the_power_of_each_half_of_a_window(sysfs_root):
    chip = write_ina3221_hwmon(
        sysfs_root, {"VDD_GPU_SOC": (5000, 1000), "VDD_CPU_CV": (5000, 400), "VIN_SYS_5V0": (5000, 600)}
    )
    with Ina3221Sensor() as sensor:
        sensor.start_window()
        time.sleep(0.25)
        write_atomically(chip / "curr1_input", "2000\n")  # VDD_GPU_SOC 5 W -> 10 W: the total 10 W -> 15 W
        time.sleep(0.25)
        window = sensor.stop_window()
    first, second = window.metadata["power_w_halves"]
    assert first == pytest.approx(10.0, abs=1.0) and second == pytest.approx(15.0, abs=1.0)
    assert window_state(window)["power_spread"] > 0.2


def test_a_load_whose_power_moves_in_its_window_is_flagged_load_unstable():
    with ScriptedSensor() as sensor:
        sensor.update_period_s = 0.0001  # each half of a 0.06 s window then spans hundreds of counter updates

        def run(n):
            sensor.set_power(40.0)
            time.sleep(n * 0.001)
            sensor.set_power(60.0)
            time.sleep(n * 0.001)
            sensor.set_power(10.0)

        unstable = measure_energy(run, 0.002, sensor)

        def steady(n):
            sensor.set_power(40.0)
            time.sleep(n * 0.002)
            sensor.set_power(10.0)

        stable = measure_energy(steady, 0.002, sensor)
    assert unstable["power_spread"] > 0.2 and "load_unstable" in unstable["power_flags"].split(",")
    assert stable["power_spread"] < LOAD_SPREAD_TOLERANCE and "load_unstable" not in stable["power_flags"].split(",")
