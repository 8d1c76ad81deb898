"""Shared plotting: the labels of a log axis over less than a decade stand apart ("0.080.090.1" read as one)."""

import math

import pytest

from hwprof.plotting import MINOR_LABEL_GAP, literal_text, new_figure, plain_log_ticks


def labelled_ticks(low: float, high: float) -> list[float]:
    """The values whose tick carries a label on a log axis from `low` to `high`, as drawn."""
    with literal_text():
        figure = new_figure(figsize=(3, 2))
        axis = figure.subplots()
        axis.set_xscale("log")
        axis.set_xlim(low, high)
        plain_log_ticks(axis.xaxis, low, high)
        figure.canvas.draw()
        ticks = [*axis.xaxis.get_major_ticks(), *axis.xaxis.get_minor_ticks()]
        return sorted(tick.get_loc() for tick in ticks if tick.label1.get_text() and low <= tick.get_loc() <= high)


@pytest.mark.parametrize("low, high", [(0.07, 0.4), (0.075, 0.2), (1.2, 9.0), (0.5, 3.0)])
def test_minor_tick_labels_of_a_narrow_log_axis_stand_apart(low, high):
    values = labelled_ticks(low, high)
    assert len(values) >= 2  # still labelled, not left bare
    gaps = [math.log10(b / a) for a, b in zip(values, values[1:])]
    assert min(gaps) >= MINOR_LABEL_GAP * math.log10(high / low) * 0.999


def test_an_axis_over_a_decade_labels_no_minor_tick():
    assert labelled_ticks(0.05, 20.0) == [0.1, 1.0, 10.0]
