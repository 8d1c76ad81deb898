"""hwprof's plots leave the caller's matplotlib as it was: a notebook's inline backend or a GUI program's
stayed switched to Agg (its plt.show() showed nothing), its own "$\\alpha$" was drawn literally (mathtext
turned off process-wide), and every hwprof figure stayed open in pyplot, so one drawn in a loop leaked."""

import io

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.search_doubles import search_result, two_trained_trials
from fakes.synthetic import synthetic_frame, write
from fakes.traces import windowed_trace_rows
from hwprof.cli import main
from hwprof.fitting import evaluate
from hwprof.report import figures
from hwprof.report.page import build_report
from hwprof.search.report import plot_pareto
from hwprof.traces import read_trace, write_trace

CALLERS_BACKEND = "svg"  # not Agg, and needs no display


@pytest.fixture
def callers_matplotlib():
    """A caller's own backend and rcParams (mathtext on, as matplotlib ships), the caller's again after."""
    backend = matplotlib.get_backend()
    matplotlib.use(CALLERS_BACKEND)
    try:
        with matplotlib.rc_context({"text.parse_math": True}):
            yield
    finally:
        matplotlib.use(backend)


def points() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"level": level, "target": "latency_ms", "op": "conv2d", "family": "f", "measured": m, "predicted": p}
            for level in ("layer", "network")
            for m, p in ((1.0, 1.1), (3.0, 2.8))
        ]
    )


def pareto(tmp_path):
    records = two_trained_trials()
    return plot_pareto(search_result(records), tmp_path / "pareto.png")


def report(tmp_path):
    dataset = write(synthetic_frame(n_networks=2, batch_sizes=(1, 4), with_power=True), tmp_path / "d.parquet")
    write_trace(windowed_trace_rows(), tmp_path / "d.trace.parquet")
    return build_report([dataset], tmp_path / "r.html")


def trace(tmp_path):
    return figures.trace(read_trace(write_trace(windowed_trace_rows(), tmp_path / "w.trace.parquet")), "w")


def plot_trace(tmp_path):
    trace = write_trace(windowed_trace_rows(), tmp_path / "w.trace.parquet")
    result = CliRunner().invoke(main, ["plot-trace", str(trace), "--out", str(tmp_path / "w.png")])
    assert result.exit_code == 0, result.output


def report_views(tmp_path):
    frame = synthetic_frame(n_networks=2, batch_sizes=(1, 4), with_power=True).assign(source="d.parquet")
    return [
        figures.time_by_op(frame)[0],
        figures.roofline(frame)[0],
        figures.against_batch_size(frame, "latency_ms", "latency per inference (ms)")[0],
    ]


ENTRY_POINTS = {
    "evaluate.figure": lambda tmp_path: evaluate.figure(points(), "p.json"),
    "evaluate.plot": lambda tmp_path: evaluate.plot(points(), tmp_path / "p.png", "p.json"),
    "search's plot_pareto": pareto,
    "report's trace": trace,
    "report's other views": report_views,
    "build_report": report,
    "plot-trace": plot_trace,
}


@pytest.mark.parametrize("draw", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_plot_leaves_the_callers_backend_mathtext_and_pyplot_as_they_were(draw, tmp_path, callers_matplotlib):
    open_before = plt.get_fignums()
    draw(tmp_path)
    assert matplotlib.get_backend() == CALLERS_BACKEND
    assert matplotlib.rcParams["text.parse_math"] is True
    assert plt.get_fignums() == open_before


def test_a_returned_figure_is_saved_and_drawn_by_the_caller(callers_matplotlib):
    figure = evaluate.figure(points(), "p$^$.json")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "p$^$.json" in figure.get_suptitle()  # a name with `$` stays as written
