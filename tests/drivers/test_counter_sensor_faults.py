"""What every counter sensor (RAPL, NVML) shares: a counter that steps back stops the sensor, never a negative
energy; and the update-period probe of a counter that moves more slowly than its first reads can time gives its
period, never the nominal one, whose windows would be short by a step (a RAPL tree updating every 0.2 s read
18.0 J for 19.0 J)."""

import pytest

from fakes.sim_clock import SimClock
from hwprof.drivers import base
from hwprof.drivers.base import SensorUnavailable, probe_update_period


def stepping(clock, period_s):
    """A counter that moves every period_s of the clock."""
    return lambda: int(clock.monotonic() / period_s)


@pytest.mark.parametrize("period_s", [0.2, 0.25])
def test_a_counter_slower_than_the_probe_can_time_is_read_on_until_it_is_timed(period_s):
    clock = SimClock(start_s=0.0)
    period, probed = probe_update_period(stepping(clock, period_s), max_probe_s=0.3, nominal_s=0.001, clock=clock)
    assert (period, probed) == (pytest.approx(period_s, rel=0.05), True)
    assert clock.monotonic() <= 2.0


def test_a_counter_that_moves_too_seldom_to_time_is_given_the_longest_period_its_changes_allow():
    clock = SimClock(start_s=1.4)  # its first step falls in the probe's first 0.3 s, its next 1.5 s later
    period, probed = probe_update_period(stepping(clock, 1.5), max_probe_s=0.3, nominal_s=0.001, clock=clock)
    assert period >= 1.5 and probed is False


def test_a_fast_counter_is_still_timed_within_its_first_reads():
    clock = SimClock(start_s=0.0)
    period, probed = probe_update_period(stepping(clock, 0.001), max_probe_s=0.3, nominal_s=0.001, clock=clock)
    assert (period, probed) == (pytest.approx(0.001, rel=0.1), True)
    assert clock.monotonic() < 0.05  # opening stays quick


def test_a_counter_that_never_moves_is_still_refused_at_once():
    clock = SimClock(start_s=0.0)
    with pytest.raises(SensorUnavailable, match="frozen"):
        probe_update_period(lambda: 7, max_probe_s=0.3, nominal_s=0.001, clock=clock, frozen_reason="frozen")
    assert clock.monotonic() < 0.35


class SimCounter(base.PowerSensor):
    """A counter-only sensor (RAPL's kind: no instantaneous samples) on a simulated clock, read through `energy`."""

    source = "sim:counter"
    primary_sensor = "sim"
    has_counter = True
    samples_are_instantaneous = False
    update_period_s = 0.001
    min_window_s = 0.5
    poll_interval_s = 0.05

    def __init__(self, clock, energy):
        super().__init__(clock)
        self.energy = energy

    def _read_energy_j(self):
        return self.energy(self.clock.monotonic())

    def _poll_samples(self, now):
        return []

    def metadata(self):
        return {}


def test_every_counter_sensor_stops_where_its_counter_steps_back():
    clock = SimClock(start_s=0.0)
    sensor = SimCounter(clock, lambda t: 10.0 * t - (50.0 if t >= 2.0 else 0.0)).open()
    mark = sensor.mark()
    clock.sleep(3.0)
    with pytest.raises(SensorUnavailable, match=r"counter of sim:counter went back by 49\.5\d* J at 2\.00 s"):
        sensor.window_since(mark)
    sensor.close()


def test_a_counter_energy_at_or_below_zero_is_never_the_window_energy():
    sensor = SimCounter(SimClock(start_s=0.0), lambda t: 0.0)
    for start_j, stop_j in ((10.0, 5.0), (10.0, 10.0)):
        window = sensor._build_window(0.0, 2.0, start_j, stop_j, [], [])
        assert window.energy_j is None and window.power_w is None and "no_energy" in window.flags
