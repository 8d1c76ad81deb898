"""Two model files of one relative name (a/net.py and b/net.py, each measured as net.py:build from its own folder)
are two networks: merging or reading their datasets together is refused in one sentence naming both, where
show printed `net.py:build (median of 2 runs)` with a latency that belonged to neither and fit took them as
reruns. The same file measured twice still merges as reruns."""

import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import merge_datasets, read_dataset
from hwprof.errors import HwprofError

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
NET = """
import torch.nn as nn


def build():
    model = nn.Sequential(nn.Linear(16, {width}), nn.ReLU(), nn.Linear({width}, 2))
    model.input_shape = (16,)
    return model
"""


def measured(folder, monkeypatch, width: int, out_name: str):
    folder.mkdir(exist_ok=True)
    (folder / "net.py").write_text(NET.format(width=width))
    monkeypatch.chdir(folder)
    out = folder.parent / out_name
    result = CliRunner().invoke(main, ["measure", "net.py:build", "--no-layers", *FAST, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def two_files(tmp_path, monkeypatch):
    return measured(tmp_path / "a", monkeypatch, 8, "a.parquet"), measured(tmp_path / "b", monkeypatch, 64, "b.parquet")


def test_merge_refuses_two_files_of_one_name(tmp_path, two_files):
    with pytest.raises(HwprofError, match=r"net\.py:build is one name for two networks, in a\.parquet \(154 params"):
        merge_datasets(list(two_files), tmp_path / "ab.parquet")
    assert not (tmp_path / "ab.parquet").exists()


def test_reading_them_together_is_refused(two_files):
    with pytest.raises(HwprofError, match=r"in b\.parquet \(1,218 params, .* MACs\) at batch 1"):
        read_dataset(list(two_files))
    assert len(read_dataset(two_files[0])) == 1  # each alone reads as before


def test_the_same_file_measured_twice_merges(tmp_path, monkeypatch):
    first = measured(tmp_path / "a", monkeypatch, 8, "one.parquet")
    second = measured(tmp_path / "a", monkeypatch, 8, "two.parquet")
    merge_datasets([first, second], tmp_path / "both.parquet")
    assert read_dataset(tmp_path / "both.parquet")["model"].tolist() == ["net.py:build"] * 2


DYNAMIC = """
import torch
import torch.nn as nn

RUNS = {runs}


class EarlyExit(nn.Module):
    \"\"\"Its second layer runs or not as a flag set when it is built: the work of one unchanged file differs
    between runs, as an early exit's or a detector's does with its weights or inputs.\"\"\"

    input_shape = (16,)

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(16, 16), nn.Linear(16, 16)
        self.deep = RUNS > 1

    def forward(self, x):
        x = self.first(x)
        return self.second(x) if self.deep else x


def build():
    return EarlyExit()
"""


def test_reruns_of_a_file_whose_work_varies_merge(tmp_path, monkeypatch):
    """Same params, other MACs: an unchanged file whose work depends on its weights or inputs is rerun, not two
    networks, so its datasets merge."""
    outs = []
    for runs in (1, 2):
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "a" / "net.py").write_text(DYNAMIC.format(runs=runs))
        monkeypatch.chdir(tmp_path / "a")
        out = tmp_path / f"run{runs}.parquet"
        result = CliRunner().invoke(main, ["measure", "net.py:build", "--no-layers", *FAST, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out)
    rows = [read_dataset(out).iloc[0] for out in outs]
    assert rows[0]["params"] == rows[1]["params"] and rows[0]["flops"] != rows[1]["flops"]
    merge_datasets(outs, tmp_path / "both.parquet")
    assert len(read_dataset(tmp_path / "both.parquet")) == 2
