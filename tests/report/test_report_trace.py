"""The power trace figure (hwprof plot-trace and the report's power section): its legend hides no sample, and
its lines are not drawn across pauses in which nothing was measured."""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from fakes.traces import windowed_trace_rows
from hwprof.report.figures import trace
from hwprof.traces import read_trace, write_trace


def drawn(tmp_path):
    frame = read_trace(write_trace(windowed_trace_rows(), tmp_path / "w.trace.parquet"))
    figure = trace(frame, "w.trace.parquet")
    FigureCanvasAgg(figure).draw()
    return figure


def test_the_legend_stands_beside_the_samples_inside_the_figure(tmp_path):
    """The legend sat at the upper right, over the last load window's samples."""
    figure = drawn(tmp_path)
    renderer = figure.canvas.get_renderer()
    axis = figure.axes[0]
    legend = axis.get_legend().get_window_extent(renderer)
    assert legend.x0 >= axis.get_window_extent(renderer).x1 and legend.x1 <= figure.bbox.x1


def test_the_line_breaks_between_windows_instead_of_drawing_a_ramp(tmp_path):
    """0.3 s pass between windows sampled every 0.05 s: no sample there, so no line either."""
    figure = drawn(tmp_path)
    [line] = [line for line in figure.axes[0].get_lines() if line.get_label() == "package-0"]
    watts = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(watts).sum() == 5  # six windows, five pauses
    assert np.count_nonzero(~np.isnan(watts)) == len(windowed_trace_rows())
