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


def test_two_boards_of_a_merged_trace_get_a_line_each_and_runs_one_after_another_share_one(tmp_path):
    """A merged fleet trace of two boards whose sensor shares a name, sampled at the same times, was one line
    zigzagging between their watts; one board's runs one after another stay one line."""
    import pandas as pd

    def samples(run_id, start_s, watts):
        return pd.DataFrame(
            {
                "timestamp_s": [start_s + 0.1 * i for i in range(10)],
                "sensor": "package-0",
                "power_w": watts,
                "run_id": run_id,
            }  # fmt: skip
        )

    boards = pd.concat([samples("a" * 32, 0.0, 20.0), samples("b" * 32, 0.05, 60.0)], ignore_index=True)
    labels = sorted(line.get_label() for line in trace(boards, "fleet").axes[0].get_lines())
    assert labels == [f"package-0 (run {'a' * 8})", f"package-0 (run {'b' * 8})"]
    in_turn = pd.concat([samples("a" * 32, 0.0, 20.0), samples("b" * 32, 5.0, 20.0)], ignore_index=True)
    assert [line.get_label() for line in trace(in_turn, "one board").axes[0].get_lines()] == ["package-0"]
