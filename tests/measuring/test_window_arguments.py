"""energy_window and EnergyMonitor check their arguments as measure() does: a tegrastats that is not a path said
it was "not an executable file" (hiding why there was no sensor), and sync="no" was taken as true."""

import pytest

import hwprof


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
