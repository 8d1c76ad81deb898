"""A network whose run stopped before all its layers were measured is marked partial in the time-by-op view,
as the overview says it is not measured yet: its bar would read as the whole network's layers."""

import pandas as pd

from fakes.synthetic import synthetic_frame
from hwprof.report.figures import time_by_op


def interrupted() -> tuple[pd.DataFrame, int]:
    """Two networks at batch 1 and 4, the second at batch 4 cut after its first two layers."""
    frame = synthetic_frame(n_networks=2).assign(source="i.parquet")
    layers = frame[frame["kind"] == "layer"]
    counts = layers.groupby(["model", "batch_size"])["layer_index"].nunique().rename("layer_count")
    frame = frame.drop(columns="layer_count", errors="ignore").join(counts, on=["model", "batch_size"])
    frame["layer_count"] = frame["layer_count"].where(frame["kind"] == "network")
    cut = (frame["kind"] == "layer") & (frame["model"] == "beta_1") & (frame["batch_size"] == 4)
    return frame[~cut | (frame["layer_index"] < 2)].reset_index(drop=True), int(counts[("beta_1", 4)])


def test_a_network_with_layers_left_to_measure_is_marked_partial_and_only_it():
    frame, count = interrupted()
    figure, note = time_by_op(frame)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["alpha_0 b=1", "alpha_0 b=4", "beta_1 b=1", f"beta_1 b=4 (partial: 2 of {count} layers)"]
    assert "a bar marked partial holds only the layers its run measured" in note


def test_whole_networks_and_rows_without_a_layer_count_are_not_marked():
    frame, _ = interrupted()
    figure, note = time_by_op(frame.drop(columns="layer_count"))
    assert not any("partial" in tick.get_text() for tick in figure.axes[0].get_yticklabels())
    assert "partial" not in note
