"""Inputs as hwprof describes them, in messages and in a dataset's network rows, read back through --input: a
positional input is written `input:float32[16]`, which --input took as a keyword named input, so the advice to
"describe each input with --input" was refused as "--input names input more than once". The recorded text stays
as it was (a network row's config, which compare matches rows by)."""

import re

import torch
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.models.inputs import ModelInputs, parse_input

FAST = ["--power", "none", "--max-time", "0.05", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]
TWO_INPUTS = """
import torch
import torch.nn as nn


class TwoIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(16, 32), nn.Linear(8, 32)

    def forward(self, x, y, *, scale=None):
        return (self.a(x) + self.b(y)) * scale


def build():
    return TwoIn(), ((torch.randn(1, 16), torch.randn(1, 8)), {"scale": torch.randn(1, 32)})
"""


def test_a_described_positional_input_reads_back_as_positional():
    inputs = ModelInputs((parse_input("float32[16]"), parse_input("int64[8]"), parse_input("scale:float32[32]")))
    described = inputs.describe()
    assert described == "input:float32[16], input:int64[8], scale:float32[32]"  # as datasets have recorded it
    again = ModelInputs(tuple(parse_input(text) for text in described.split(", ")))
    assert again == inputs and [spec.name for spec in again.specs] == [None, None, "scale"]
    args, kwargs = again.make(2)
    assert [tuple(t.shape) for t in args] == [(2, 16), (2, 8)] and args[1].dtype == torch.int64
    assert list(kwargs) == ["scale"]


def test_the_inputs_a_refusal_describes_measure_the_model_when_given_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two.py").write_text(TWO_INPUTS)
    refused = CliRunner().invoke(main, ["measure", "two.py:build", "--input-shape", "16", *FAST])
    assert refused.exit_code == 1, refused.output
    described = re.search(r"takes (.*), which --input-shape", refused.output)[1]
    assert described == "input:float32[16], input:float32[8], scale:float32[32]"
    given = [part for text in described.split(", ") for part in ("--input", text)]
    result = CliRunner().invoke(main, ["measure", "two.py:build", *given, *FAST, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 0, result.output


MASK_THEN_INPUT = """
import torch.nn as nn


class MaskThenInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, mask, input):
        return self.fc(input * mask)


def build():
    return MaskThenInput()
"""


def test_an_input_named_input_after_a_keyword_is_that_keyword():
    """Only positional inputs come before a positional `input:` that describe wrote; after a keyword input, `input`
    is the keyword of a forward(mask, input), as --input mask:... --input input:... always passed it."""
    after = ModelInputs((parse_input("mask:bool[16]"), parse_input("input:float32[16]")))
    assert [spec.name for spec in after.specs] == ["mask", "input"]
    args, kwargs = after.make(2)
    assert args == () and list(kwargs) == ["mask", "input"]
    assert ModelInputs(tuple(parse_input(text) for text in after.describe().split(", "))) == after
    first = ModelInputs((parse_input("input:float32[16]"), parse_input("mask:bool[16]")))
    assert [spec.name for spec in first.specs] == [None, "mask"]
    args, kwargs = first.make(2)
    assert [tuple(t.shape) for t in args] == [(2, 16)] and list(kwargs) == ["mask"]


def test_a_forward_taking_mask_then_input_is_measured_by_keyword(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "masked.py").write_text(MASK_THEN_INPUT)
    given = ["--input", "mask:bool[16]", "--input", "input:float32[16]"]
    result = CliRunner().invoke(main, ["measure", "masked.py:build", *given, *FAST, "--out", str(tmp_path / "m.csv")])
    assert result.exit_code == 0, result.output
