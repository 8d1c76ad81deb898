"""The report draws each measured latency with its 95% interval, and marks a median that has none."""

import numpy as np
from matplotlib.collections import LineCollection, PathCollection

from fakes.synthetic import synthetic_frame, write
from hwprof.report.figures import against_batch_size, time_by_op
from hwprof.report.page import build_report


def one_unbounded():
    """Two networks at two batch sizes; the first network row a median of 3 samples, with no interval."""
    frame = synthetic_frame(n_networks=2, batch_sizes=(1, 4)).assign(source="d.parquet")
    networks = frame.index[frame["kind"] == "network"]
    frame.loc[networks, "samples"] = 40
    frame.loc[networks, "latency_ms_ci_low"] = frame.loc[networks, "latency_ms"] * 0.8
    frame.loc[networks, "latency_ms_ci_high"] = frame.loc[networks, "latency_ms"] * 1.5
    frame.loc[networks[0], "samples"] = 3
    frame.loc[networks[0], ["latency_ms_ci_low", "latency_ms_ci_high"]] = None
    return frame, frame.loc[networks[0]]


def error_bars(axis) -> list[np.ndarray]:
    """The bars drawn, each as its two ends (a point without an interval has none)."""
    segments = [segment for c in axis.collections if isinstance(c, LineCollection) for segment in c.get_segments()]
    return [s for s in segments if len(s) == 2 and not np.allclose(s[0], s[1])]


def hollow(axis) -> list:
    return [
        c
        for c in axis.collections
        if isinstance(c, PathCollection) and len(c.get_offsets()) and not len(c.get_facecolors())
    ]


def test_latency_against_batch_size_has_interval_bars_and_hollow_markers_for_unbounded_medians():
    frame, few = one_unbounded()
    figure, note = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    axis = figure.axes[0]
    spans = sorted((float(s[:, 1].min()), float(s[:, 1].max())) for s in error_bars(axis))
    bounded = frame[(frame["kind"] == "network") & frame["latency_ms_ci_low"].notna()]
    assert spans == sorted(zip(bounded["latency_ms_ci_low"], bounded["latency_ms_ci_high"]))
    (marked,) = hollow(axis)
    assert np.allclose(marked.get_offsets(), [[few["batch_size"], few["latency_ms"]]])
    assert "too few samples: no interval" in [text.get_text() for text in axis.get_legend().get_texts()]
    assert "95% interval" in note and "hollow markers" in note


def test_time_by_op_marks_each_network_with_its_interval(tmp_path):
    frame, few = one_unbounded()
    figure, note = time_by_op(frame)
    axis = figure.axes[0]
    assert len(error_bars(axis)) == 3  # every network but the one without an interval
    (marked,) = hollow(axis)
    assert np.isclose(marked.get_offsets()[0][0], few["latency_ms"]) and "hollow markers" in note
    out = tmp_path / "r.html"
    build_report([write(frame.drop(columns="source"), tmp_path / "d.parquet")], out)
    assert out.read_text().count("none: too few samples") == 1
