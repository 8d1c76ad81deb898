"""RAPL's power_spread from every poll read of each half of a window, not from one read near its middle."""

import pytest

from hwprof.drivers.base import EnergyWindow, _counter_halves
from hwprof.measuring.energy import LOAD_SPREAD_TOLERANCE, power_spread

POLL_S = 0.05  # RAPL's poll interval where its counters wrap slowly


def counter_reads(duration_s, power_w, update_period_s=0.001, late=None):
    """Reads of a counter polled every POLL_S from a window's start to its stop (both edges read), the counter
    moving every `update_period_s` at `power_w(t)` watts; `late` = (t, lag_s): the read at t shows the counter
    as it was lag_s earlier (a poller descheduled, a counter stalled for a moment)."""
    times = [i * POLL_S + 0.013 for i in range(int((duration_s - 0.013) / POLL_S) + 1)]
    times = [0.0, *(t for t in times if t < duration_s), duration_s]

    def energy_j(t):
        steps = int(t / update_period_s)
        return sum(power_w(i * update_period_s) * update_period_s for i in range(steps))

    reads = []
    for t in times:
        lag_s = late[1] if late and abs(t - late[0]) < 1e-9 else 0.0
        reads.append((t, energy_j(t - lag_s)))
    return reads


def halves_of(reads, update_period_s=0.001):
    window = EnergyWindow(energy_j=reads[-1][1] - reads[0][1], duration_s=reads[-1][0], source="rapl:package-0")
    _counter_halves(window, reads, update_period_s)
    return window


def test_one_late_read_near_the_middle_does_not_make_a_steady_load_unstable():
    """At a constant 20 W one read 30 ms late near the middle gave power_spread 0.1 (load_unstable)."""
    reads = counter_reads(0.58, lambda t: 20.0)
    middle = min(reads[1:-1], key=lambda read: abs(read[0] - 0.29))[0]
    window = halves_of(counter_reads(0.58, lambda t: 20.0, late=(middle, 0.03)))
    assert window.metadata["power_w_halves"] == pytest.approx([20.0, 20.0], rel=0.02)
    assert power_spread(window) < LOAD_SPREAD_TOLERANCE / 2


def test_a_short_window_of_a_slowly_updating_counter_still_gets_its_halves():
    """A 0.5 s window of a counter probed at 3.6 ms had no halves (power_spread NaN): the read that split it
    sat up to half a poll off the middle, leaving the shorter half under 100 updates."""
    window = halves_of(counter_reads(0.5, lambda t: 20.0, update_period_s=0.0036), update_period_s=0.0036)
    assert window.metadata["power_w_halves"] == pytest.approx([20.0, 20.0], rel=0.03)


def test_a_load_that_changes_power_halfway_is_still_seen():
    window = halves_of(counter_reads(0.6, lambda t: 10.0 if t < 0.3 else 30.0))
    first, second = window.metadata["power_w_halves"]
    assert first == pytest.approx(10.0, rel=0.05) and second == pytest.approx(30.0, rel=0.05)
    assert power_spread(window) > 0.9


def test_halves_too_short_for_the_counter_are_not_given():
    window = halves_of(counter_reads(0.5, lambda t: 20.0, update_period_s=0.01), update_period_s=0.01)
    assert "power_w_halves" not in window.metadata
