"""A network measured in several runs merged into one file: the report gives its median no 95% interval, as
`hwprof show` gives none ("- (median of 2 runs)"); the median of the runs' bounds is no one's interval and can
leave out one run's own median."""

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from fakes.synthetic import synthetic_frame, write
from hwprof.report.figures import BOUNDS, against_batch_size, measured_spread, time_by_op
from hwprof.report.page import build_report


def two_runs() -> pd.DataFrame:
    """One network at batch size 1, measured in two runs (0.1089 ms and 0.2463 ms, as the audit's merge)."""
    frame = synthetic_frame(n_networks=1, batch_sizes=(1,)).assign(run_id="run1")
    network = frame[frame["kind"] == "network"].assign(samples=200)
    first = network.assign(latency_ms=0.1089, latency_ms_ci_low=0.0985, latency_ms_ci_high=0.1377)
    second = network.assign(latency_ms=0.2463, latency_ms_ci_low=0.1189, latency_ms_ci_high=0.2584, run_id="run2")
    return pd.concat([frame[frame["kind"] != "network"], first, second], ignore_index=True)


def bars(axis) -> list[np.ndarray]:
    segments = [segment for c in axis.collections if isinstance(c, LineCollection) for segment in c.get_segments()]
    return [s for s in segments if len(s) == 2 and not np.allclose(s[0], s[1])]


def test_merged_runs_have_no_interval_in_the_spread_the_plots_or_the_table(tmp_path):
    frame = two_runs().assign(source="ee.parquet")
    spread = measured_spread(frame[frame["kind"] == "network"], ["source", "model", "batch_size"])
    assert spread["latency_ms"].iloc[0] == np.median([0.1089, 0.2463])
    assert spread[list(BOUNDS)].isna().all(axis=None)
    figure, note = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    assert bars(figure.axes[0]) == [] and "several runs" in note
    figure, note = time_by_op(frame)
    assert bars(figure.axes[0]) == [] and "several runs" in note
    out = tmp_path / "r.html"
    build_report([write(frame.drop(columns="source"), tmp_path / "ee.parquet")], out)
    text = out.read_text()
    assert "- (median of 2 runs)" in text
    assert "0.1087 .. 0.198" not in text and "0.1087" not in text


def test_one_run_keeps_its_own_interval():
    frame = two_runs().assign(source="e.parquet")
    one = frame[frame["run_id"] == "run1"]
    spread = measured_spread(one[one["kind"] == "network"], ["source", "model", "batch_size"])
    assert spread[list(BOUNDS)].iloc[0].tolist() == [0.0985, 0.1377]
    figure, _ = against_batch_size(one, "latency_ms", "latency per inference (ms)")
    (bar,) = bars(figure.axes[0])
    assert sorted(bar[:, 1]) == [0.0985, 0.1377]
