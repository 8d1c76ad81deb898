"""A user's network may return a dataclass of tensors: its output_bytes count them, as a tuple's are counted."""

import dataclasses

import pandas as pd
import torch
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.models.recall import tensors_in

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
FACTORY = """
import dataclasses

import torch
import torch.nn as nn


@dataclasses.dataclass
class Out:
    logits: torch.Tensor
    feats: torch.Tensor


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(64, 256)

    def forward(self, x):
        feats = self.linear(x)
        return Out(feats * 2, feats)


def build():
    return Net(), torch.randn(1, 64)
"""


@dataclasses.dataclass
class Pair:
    first: torch.Tensor
    rest: tuple


def test_tensors_in_reads_dataclass_fields_in_order():
    a, b, c = torch.zeros(1), torch.zeros(2), torch.zeros(3)
    found = tensors_in([Pair(a, (b, {"c": c})), Pair])  # the class itself holds no tensor
    assert [t.shape for t in found] == [(1,), (2,), (3,)]


def test_a_network_returning_a_dataclass_counts_its_output_bytes(tmp_path):
    """It recorded 0 bytes: the dataclass was not looked into."""
    (tmp_path / "dc.py").write_text(FACTORY)
    out = tmp_path / "d.parquet"
    args = [f"{tmp_path / 'dc.py'}:build", "--no-layers", *FAST, "--out", str(out)]
    result = CliRunner().invoke(main, ["measure", *args])
    assert result.exit_code == 0, result.output
    network = pd.read_parquet(out).query("kind == 'network'")
    assert network["output_bytes"].tolist() == [2 * 256 * 4]
