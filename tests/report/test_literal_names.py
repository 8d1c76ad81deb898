"""A `$` in a name (a model file, a trace, a search space, a predictor) is drawn as written in every figure:
matplotlib read it as mathtext, so an odd count failed the figure and an even one rewrote the name."""

import pandas as pd

from fakes.search_doubles import search_result, two_trained_trials
from fakes.synthetic import synthetic_frame, write
from fakes.traces import windowed_trace_rows
from hwprof.fitting.evaluate import figure as evaluate_figure
from hwprof.report.figures import against_batch_size, roofline, time_by_op, trace
from hwprof.report.page import build_report
from hwprof.search.report import plot_pareto
from hwprof.traces import read_trace, write_trace

BROKEN = "net$^$.py:build"  # one `$` too many for mathtext: its parser failed
MATH = "cost$x^2$.py:build"  # valid mathtext: it was drawn as costx²


def dollar_frame():
    frame = synthetic_frame(n_networks=2, batch_sizes=(1, 4), with_power=True)
    first = frame["model"] == frame["model"].iloc[0]
    frame.loc[first, "model"] = BROKEN
    frame.loc[~first, "model"] = MATH
    return frame.assign(source="d$1$.parquet")


def drawn_texts(figure) -> list:
    """Every text of `figure` once drawn (drawing is where mathtext failed), with what each shows."""
    from matplotlib.text import Text

    figure.canvas.draw()
    texts = [text for text in figure.findobj(Text) if text.get_visible() and text.get_text()]
    return texts


def assert_literal(figure, *names):
    texts = drawn_texts(figure)
    shown = "\n".join(text.get_text() for text in texts)
    for name in names:
        assert name in shown
    assert all(not text.get_parse_math() for text in texts if "$" in text.get_text())
    assert "mathdefault" not in shown  # no tick label is mathtext either, shown as its source


def log_tick_labels(figure) -> list[str]:
    figure.canvas.draw()
    return [
        label.get_text()
        for axis in figure.axes
        for ticks in (axis.get_xticklabels(), axis.get_yticklabels(), axis.get_yticklabels(minor=True))
        for label in ticks
        if label.get_text()
    ]


def test_the_reports_figures_draw_names_with_dollars_as_written():
    frame = dollar_frame()
    assert_literal(time_by_op(frame)[0], BROKEN, MATH)
    assert_literal(against_batch_size(frame, "latency_ms", "latency per inference (ms)")[0], BROKEN, MATH)
    assert_literal(roofline(frame)[0])


def test_log_axes_are_labelled_in_plain_numbers():
    """matplotlib's log tick labels are mathtext: shown as written they read $\\mathdefault{10^{1}}$."""
    frame = dollar_frame()
    for figure in (against_batch_size(frame, "latency_ms", "latency per inference (ms)")[0], roofline(frame)[0]):
        labels = log_tick_labels(figure)
        assert labels and all(float(label) > 0 for label in labels)  # 0.2, 10, 1e-05: numbers as Python reads them


def test_a_report_of_a_model_and_a_trace_with_dollars_in_their_names_is_written(tmp_path):
    dataset = write(dollar_frame().drop(columns="source"), tmp_path / "d$^$.parquet")
    write_trace(windowed_trace_rows(), tmp_path / "d$^$.trace.parquet")
    summary = build_report([dataset], tmp_path / "r.html")
    assert summary["images"] == 5 and summary["traces"]
    assert_literal(trace(read_trace(tmp_path / "d$^$.trace.parquet"), "x$^$.trace.parquet"), "x$^$.trace.parquet")


def test_a_predictor_and_a_search_space_with_dollars_in_their_names_are_drawn(tmp_path, monkeypatch):
    points = pd.DataFrame(
        [
            {"level": level, "target": "latency_ms", "op": "conv2d", "family": "f", "measured": m, "predicted": p}
            for level in ("layer", "network")
            for m, p in ((1.0, 1.1), (3.0, 2.8))
        ]
    )
    assert_literal(evaluate_figure(points, "p$^$.json"), "p$^$.json")

    from hwprof.search import report

    drawn = {}
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.setdefault("figure", figure) and path)
    records = two_trained_trials()
    result = search_result(records)
    result.space_name = "sp$^$.yaml"
    plot_pareto(result, tmp_path / "pareto.png")
    assert_literal(drawn["figure"], "sp$^$.yaml")
