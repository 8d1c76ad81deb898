"""energy_window and EnergyMonitor check their arguments as measure() does: a tegrastats that is not a path said
it was "not an executable file" (hiding why there was no sensor), and sync="no" was taken as true. A monitor's
repr says what it reads."""

import pytest

import hwprof
from fakes.sysfs import FakeRaplTree, FakeZone


def test_a_tegrastats_that_is_not_a_path_is_refused_as_measure_refuses_it(sysfs_root):
    for make in (lambda: hwprof.EnergyMonitor(tegrastats=5), lambda: hwprof.energy_window(tegrastats=5).__enter__()):
        with pytest.raises(hwprof.HwprofError) as refused:
            make()
        assert str(refused.value) == "tegrastats=5: give a path (str or os.PathLike), or None"


@pytest.mark.parametrize("method", ["begin_window", "end_window"])
def test_sync_is_true_or_false(sysfs_root, method):
    with hwprof.EnergyMonitor(power="none") as monitor:
        monitor.begin_window("a")
        with pytest.raises(hwprof.HwprofError) as refused:
            getattr(monitor, method)("a", sync="no")
        assert str(refused.value) == "sync='no': give True or False"
        assert monitor.open_windows == ["a"]  # the refused call changed nothing


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_monitor_shows_its_device_its_sensor_and_its_open_windows(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)]):
        with hwprof.EnergyMonitor("cpu", power="rapl") as monitor:
            monitor.begin_window("epoch")
            assert repr(monitor) == "EnergyMonitor(device='cpu', source='rapl:package-0', open_windows=['epoch'])"
    assert repr(monitor) == "EnergyMonitor(device='cpu', source='rapl:package-0', open_windows=[], closed=True)"
    off = hwprof.EnergyMonitor(power="none")
    assert repr(off) == (
        "EnergyMonitor(device='cpu', unavailable_reason='power measurement was turned off', open_windows=[])"
    )
    off.close()


def test_a_closed_monitor_is_refused_when_entered_again(sysfs_root):
    """Entered again it said nothing; only its next begin_window found the sensor released."""
    with hwprof.EnergyMonitor(power="none") as monitor:
        pass
    with pytest.raises(hwprof.HwprofError, match="this EnergyMonitor is closed"):
        with monitor:
            pass
