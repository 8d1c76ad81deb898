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


def test_sequence_lengths_are_in_their_order_as_numbers():
    frame = two_sequence_lengths().replace({"seq_len": {256: 128}})
    figure, _ = time_by_op(frame)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["alpha_0 seq 16 b=1", "alpha_0 seq 128 b=1", "alpha_0 seq 16 b=2", "alpha_0 seq 128 b=2"]


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


def merged_runs(tmp_path, settings: dict[str, tuple]) -> str:
    """Two runs of one network merged into one file, differing in one run setting (`settings`: the provenance
    entry and the layers' cache label of each run); the second run is twice as fast."""
    import json

    from hwprof.dataset import merge_datasets

    paths = []
    for index, (allocator, cache) in enumerate(zip(*settings.values())):
        frame = synthetic_frame(n_networks=1, batch_sizes=(1,)).assign(run_id=f"run{index}")
        frame["latency_ms"] /= 1 + index
        frame["cache"] = frame["kind"].map({"layer": cache})
        path = tmp_path / f"m{index}.parquet"
        write(frame, path)
        run = {"run_id": f"run{index}", "threads": 1, "allocator": {"policy": allocator}, "cache": {"mode": cache}}
        path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
        paths.append(path)
    merge_datasets(paths, tmp_path / "m.parquet")
    return str(tmp_path / "m.parquet")


def drawn_bars(monkeypatch, dataset, out) -> dict[str, float]:
    """The time-by-op bars the report of `dataset` draws: label -> the layer time stacked in it (ms)."""
    from hwprof.report import figures
    from hwprof.report.page import build_report

    drawn = {}
    original = figures.time_by_op

    def spy(frame):
        figure, note = original(frame)
        axis = figure.axes[0]
        labels = [tick.get_text() for tick in axis.get_yticklabels()]
        for index, patch in enumerate(axis.patches):
            label = labels[index % len(labels)]
            drawn[label] = drawn.get(label, 0.0) + patch.get_width()
        return figure, note

    monkeypatch.setattr(figures, "time_by_op", spy)
    build_report([dataset], out)
    return drawn


def test_runs_under_two_allocator_policies_are_drawn_apart_as_show_names_them(tmp_path, monkeypatch):
    dataset = merged_runs(tmp_path, {"allocator": ("steady", "system"), "cache": ("cold", "cold")})
    bars = drawn_bars(monkeypatch, dataset, tmp_path / "r.html")
    layers = synthetic_frame(n_networks=1, batch_sizes=(1,)).query("kind == 'layer'")["latency_ms"].sum()
    assert set(bars) == {"alpha_0 b=1 allocator steady", "alpha_0 b=1 allocator system"}
    assert np.isclose(bars["alpha_0 b=1 allocator steady"], layers)
    assert np.isclose(bars["alpha_0 b=1 allocator system"], layers / 2)
    text = (tmp_path / "r.html").read_text()
    assert "<td>alpha_0 b=1 allocator steady</td>" in text and "<td>alpha_0 b=1 allocator system</td>" in text


def test_runs_in_two_cache_modes_are_drawn_apart_as_show_names_them(tmp_path, monkeypatch):
    dataset = merged_runs(tmp_path, {"allocator": ("steady", "steady"), "cache": ("cold", "warm")})
    bars = drawn_bars(monkeypatch, dataset, tmp_path / "r.html")
    assert set(bars) == {"alpha_0 b=1 cache cold", "alpha_0 b=1 cache warm"}
    assert np.isclose(bars["alpha_0 b=1 cache cold"], 2 * bars["alpha_0 b=1 cache warm"])
    text = (tmp_path / "r.html").read_text()
    assert "<td>alpha_0 b=1 cache cold</td>" in text and "<td>alpha_0 b=1 cache warm</td>" in text
