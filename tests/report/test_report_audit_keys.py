"""The report keeps apart what `hwprof show` keeps apart: a network at two sequence lengths is two networks,
never one row, bar or line at their median, which describes neither."""

import numpy as np
import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.report.figures import against_batch_size, time_by_op


def two_sequence_lengths() -> pd.DataFrame:
    short = synthetic_frame(n_networks=1, batch_sizes=(1, 2)).assign(seq_len=16)
    long = synthetic_frame(n_networks=1, batch_sizes=(1, 2)).assign(seq_len=256)
    long["latency_ms"] *= 4
    return pd.concat([short, long], ignore_index=True).assign(source="s.parquet", run_id="run1")


def test_each_sequence_length_gets_its_own_bar_named_as_show_names_it():
    frame = two_sequence_lengths()
    figure, _ = time_by_op(frame)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert sorted(labels) == ["alpha_0 seq 16 b=1", "alpha_0 seq 16 b=2", "alpha_0 seq 256 b=1", "alpha_0 seq 256 b=2"]
    widths = {label: 0.0 for label in labels}
    for patch, label in zip(figure.axes[0].patches, labels * len(figure.axes[0].patches)):
        widths[label] += patch.get_width()
    layers = frame[(frame["kind"] == "layer") & (frame["batch_size"] == 1)].groupby("seq_len")["latency_ms"].sum()
    assert np.isclose(widths["alpha_0 seq 256 b=1"], layers[256]) and np.isclose(
        widths["alpha_0 seq 16 b=1"], layers[16]
    )


def test_each_sequence_length_gets_its_own_line_against_batch_size():
    frame = two_sequence_lengths()
    figure, _ = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
    assert np.allclose(lines["alpha_0 seq 256"], 4 * lines["alpha_0 seq 16"])


def test_the_latency_table_has_a_row_per_sequence_length(tmp_path):
    from hwprof.report.page import build_report

    frame = two_sequence_lengths().drop(columns=["source", "run_id"])
    build_report([write(frame, tmp_path / "s.parquet")], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    networks = frame[(frame["kind"] == "network") & (frame["batch_size"] == 1)].set_index("seq_len")["latency_ms"]
    for seq_len in (16, 256):
        assert f"<td>alpha_0 seq {seq_len} b=1</td><td>{networks[seq_len]:.4g}</td>" in text
