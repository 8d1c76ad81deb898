"""A power trace of runs merged from minutes apart is drawn one panel per stretch of samples, so each run's
windows keep their width; a trace without long pauses keeps its one time axis."""

import pandas as pd

from hwprof.report.figures import trace


def samples(start_s: float, count: int = 100, watts: float = 20.0) -> pd.DataFrame:
    """`count` samples 0.1 s apart from `start_s`, in load and idle windows of 1 s."""
    times = [start_s + 0.1 * i for i in range(count)]
    windows = [(start_s + int(0.1 * i), "load" if int(0.1 * i) % 2 else "idle") for i in range(count)]
    return pd.DataFrame(
        {
            "timestamp_s": times,
            "sensor": "package-0",
            "power_w": watts,
            "window": [kind for _, kind in windows],
            "window_start_s": [start for start, _ in windows],
            "window_stop_s": [start + 1.0 for start, _ in windows],
        }
    )


def test_runs_minutes_apart_get_a_panel_each_spanning_only_their_samples():
    frame = pd.concat([samples(1000.0), samples(1260.0, watts=30.0)], ignore_index=True)
    figure = trace(frame, "pq.trace.parquet")
    assert len(figure.axes) == 2
    for axis in figure.axes:
        low, high = axis.get_xlim()
        assert high - low < 15  # its own 10 s, not the 270 s of both
    assert figure.axes[1].get_title() == "pq.trace.parquet (part 2 of 2, 260 s into the trace)"


def test_pauses_shorter_than_what_came_before_keep_one_axis():
    frame = pd.concat([samples(1000.0, count=1000), samples(1140.0)], ignore_index=True)
    figure = trace(frame, "one.trace.parquet")
    assert len(figure.axes) == 1 and figure.axes[0].get_title() == "one.trace.parquet"
