"""An EnergyMonitor, or a sensor, dropped without close() (a notebook cell run again, an exception before close)
stops its poller once it is collected: ten such monitors left ten threads polling sysfs at 20 Hz for the rest of
the process."""

import gc
import threading
import time

import pytest

import hwprof
from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.drivers import open_sensor


@pytest.fixture
def rapl(sysfs_root):
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 40.0)]):
        yield


def pollers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "hwprof-poll-rapl:package-0"}


def polling_after_collection(before: set[threading.Thread]) -> set[threading.Thread]:
    """The pollers started since `before` still alive after a collection, waited on up to 5 s to end."""
    gc.collect()
    deadline = time.monotonic() + 5.0
    while pollers() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    return pollers() - before


def test_monitors_dropped_unclosed_stop_their_pollers(rapl):
    def cell():
        monitor = hwprof.EnergyMonitor("cpu", power="rapl")
        monitor.begin_window("epoch")
        time.sleep(0.05)
        return monitor.end_window("epoch").duration_s

    before = pollers()
    for _ in range(3):
        cell()
    assert not polling_after_collection(before)


def test_a_sensor_dropped_unclosed_stops_its_poller(rapl):
    before = pollers()
    sensor = open_sensor("rapl", "cpu")
    assert pollers() - before
    del sensor
    assert not polling_after_collection(before)


def test_a_monitor_still_held_keeps_polling_until_it_is_closed(rapl):
    before = pollers()
    monitor = hwprof.EnergyMonitor("cpu", power="rapl")
    gc.collect()
    assert pollers() - before
    monitor.close()
    assert not pollers() - before


def test_a_poller_stopped_from_its_own_poll_ends_without_an_error(monkeypatch):
    """A sensor whose last reference goes inside its poll is collected on the poller's thread, which then stops
    itself: it cannot wait for its own end."""
    from hwprof.drivers.base import REAL_CLOCK

    errors, stopped = [], threading.Event()
    monkeypatch.setattr(threading, "excepthook", errors.append)
    stop = []

    def poll():
        stop[0]()
        stopped.set()

    stop.append(REAL_CLOCK.every(0.01, poll, "hwprof-poll-test"))
    assert stopped.wait(5.0)
    assert not errors
