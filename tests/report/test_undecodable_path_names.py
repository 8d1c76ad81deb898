"""Under `PYTHONUTF8=0 LC_ALL=C` Python holds a non-ASCII file name with surrogates (its undecodable bytes), which
pyarrow-backed columns and matplotlib refuse: fit, report and plot-trace failed with "this is a bug" on a folder
named `dätä ü`. The name is shown with its bytes read as UTF-8; the file is still opened by its real path."""

import os

import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from fakes.traces import windowed_trace_rows
from hwprof.cli import main
from hwprof.traces import write_trace

NAME = "d\u00e4t\u00e4"  # what the C locale holds as "d\udcc3\udca4t\udcc3\udca4"


def held_under_the_c_locale(path) -> str:
    """`path` as Python holds it where the file system encoding is ASCII: each non-ASCII byte a surrogate."""
    return os.fsencode(path).decode("ascii", "surrogateescape")


@pytest.fixture
def dataset(tmp_path):
    return held_under_the_c_locale(write(synthetic_frame(n_networks=2), tmp_path / f"{NAME}.parquet"))


def test_fit_reads_a_dataset_whose_name_python_holds_with_surrogates(dataset):
    from hwprof.fitting.data import read_inputs

    frame, sources = read_inputs([dataset])
    assert set(frame["source"]) == {dataset.encode("utf-8", "surrogateescape").decode("utf-8")}
    assert NAME in frame["source"].iloc[0] and sources[0]["path"] == dataset  # the file, as it was given


def test_report_shows_the_name_of_such_a_dataset(dataset, tmp_path):
    result = CliRunner().invoke(main, ["report", dataset, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert f"hwprof report: {NAME}.parquet" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_plot_trace_titles_such_a_trace_with_its_name(tmp_path, monkeypatch):
    import hwprof.report.figures

    titles = []
    drawn = hwprof.report.figures.trace
    monkeypatch.setattr(
        hwprof.report.figures, "trace", lambda frame, title, **kw: titles.append(title) or drawn(frame, title, **kw)
    )
    trace = held_under_the_c_locale(write_trace(windowed_trace_rows(), tmp_path / f"{NAME}.trace.parquet"))
    result = CliRunner().invoke(main, ["plot-trace", trace, "--out", str(tmp_path / "t.png")])
    assert result.exit_code == 0, result.output
    assert titles == [f"{NAME}.trace.parquet"] and (tmp_path / "t.png").exists()
