"""A command measured by `hwprof run` records no dtype, layout, compilation or thread count: added to a report, it
must not make every network's label name the one setting they all share."""

import pandas as pd

from fakes.synthetic import synthetic_frame
from hwprof.report.figures import against_batch_size, time_by_op, with_devices


def networks_and_a_command() -> pd.DataFrame:
    networks = synthetic_frame(n_networks=2).assign(dtype="bfloat16", channels_last=True, threads="1")
    command = {"kind": "command", "model": "python train.py", "device_name": networks["device_name"].iloc[0]}
    return pd.concat([networks, pd.DataFrame([command])], ignore_index=True).assign(source="n.parquet")


def test_settings_all_networks_share_name_no_series_beside_a_command():
    frame = networks_and_a_command()
    assert with_devices(frame)[1] == []
    figure, _ = time_by_op(frame)
    assert [tick.get_text() for tick in figure.axes[0].get_yticklabels()] == [
        f"{model} b={size}" for model in ("alpha_0", "beta_1") for size in (1, 4)
    ]
    figure, _ = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    assert {line.get_label() for line in figure.axes[0].get_lines()} == {"alpha_0", "beta_1"}
