"""The report's Datasets table counts unstable and contended rows as `hwprof show` does: each layer and network
once however many runs measured it, so a merge of two runs does not read as twice the unstable rows."""

import re

import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.report.page import build_report


def one_run(run_id: str) -> pd.DataFrame:
    """Two networks at one batch size; every layer unstable and contended, the networks stable."""
    frame = synthetic_frame(n_networks=2, batch_sizes=(1,)).assign(run_id=run_id)
    layers = frame["kind"] == "layer"
    return frame.assign(stable=~layers, other_cpu_share=layers.map({True: 0.5, False: 0.0}))


def datasets_row(path) -> list[str]:
    table = path.read_text().split('id="overview"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return re.findall(r"<td>(.*?)</td>", body.split("</tr>")[0])


def test_two_runs_merged_count_each_layer_once(tmp_path):
    first = one_run("run1")
    layers = int((first["kind"] == "layer").sum())
    merged = pd.concat([first, one_run("run2")], ignore_index=True)
    out = tmp_path / "r.html"
    build_report([write(merged, tmp_path / "ab.parquet")], out)
    cells = datasets_row(out)
    assert cells[1] == str(2 * len(first))  # rows: every run's
    assert cells[5:7] == [str(layers), str(layers)]  # unstable, contended: each layer once
    assert "counts once however many runs" in out.read_text()


def test_one_run_counts_every_flagged_row(tmp_path):
    frame = one_run("run1")
    frame.loc[frame.index[frame["kind"] == "network"][0], "stable"] = False
    out = tmp_path / "r.html"
    build_report([write(frame, tmp_path / "a.parquet")], out)
    layers = int((frame["kind"] == "layer").sum())
    assert datasets_row(out)[5:7] == [str(layers + 1), str(layers)]
