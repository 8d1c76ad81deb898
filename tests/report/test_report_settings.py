"""The report of a board's runs merged at two dtypes or thread counts: one bar and one line per setting,
labelled, never a median over them."""

import json

import numpy as np
import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.report.figures import against_batch_size, time_by_op


def two_dtypes() -> pd.DataFrame:
    fast = synthetic_frame(n_networks=2).assign(dtype="bfloat16")
    slow = synthetic_frame(n_networks=2).assign(dtype="float32")
    slow["latency_ms"] *= 2
    return pd.concat([fast, slow], ignore_index=True).assign(source="tb.parquet")


def test_a_board_s_two_dtypes_get_a_bar_each_labelled_not_their_median():
    frame = two_dtypes()
    figure, _ = time_by_op(frame)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    networks = frame[frame["kind"] == "network"].groupby(["model", "batch_size"]).ngroups
    assert len(labels) == 2 * networks
    assert sum(x.endswith(" bfloat16") for x in labels) == networks == sum(x.endswith(" float32") for x in labels)


def test_a_board_s_two_dtypes_get_a_line_each_against_batch_size():
    frame = two_dtypes()
    figure, _ = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
    for model in frame["model"].unique():
        assert np.allclose(lines[f"{model} float32"], 2 * lines[f"{model} bfloat16"])


def test_the_report_draws_runs_at_two_thread_counts_apart(tmp_path, monkeypatch):
    from hwprof.report import figures
    from hwprof.report.page import build_report

    paths = []
    for threads in (1, 2):
        frame = synthetic_frame(n_networks=2).assign(run_id=f"run{threads}")
        frame["latency_ms"] /= threads
        path = tmp_path / f"t{threads}.parquet"
        write(frame, path)
        path.with_name(f"{path.name}.json").write_text(
            json.dumps({"schema_version": 1, "runs": [{"run_id": f"run{threads}", "threads": threads}]})
        )
        paths.append(path)
    from hwprof.dataset import merge_datasets

    merge_datasets(paths, tmp_path / "tt.parquet")
    drawn = []
    original = figures.time_by_op

    def spy(frame):
        figure, note = original(frame)
        drawn.append([tick.get_text() for tick in figure.axes[0].get_yticklabels()])
        return figure, note

    monkeypatch.setattr(figures, "time_by_op", spy)
    build_report([tmp_path / "tt.parquet"], tmp_path / "r.html")
    (labels,) = drawn
    assert any(x.endswith("1 thread(s)") for x in labels) and any(x.endswith("2 thread(s)") for x in labels)
    assert len(labels) == 2 * len({x.rsplit(" ", 2)[0] for x in labels})
