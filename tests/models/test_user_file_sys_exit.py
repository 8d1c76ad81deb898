"""A user's model file that calls sys.exit (argparse reading hwprof's own command line at import, a factory or a
forward that exits) is one sentence naming the file and the exit it asked for, and exit status 1: hwprof exited
with the file's status (2, 3) and no word of its own."""

import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.models.spec import resolve_model

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
ARGPARSE = """
import argparse

import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--width", type=int, default=16)
args = parser.parse_args(["--depth", "3"])


def build():
    return nn.Linear(args.width, 4)
"""
EXITS = """
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        if x.shape[0] > 1:
            sys.exit("batch > 1 unsupported")
        return self.linear(x)


def build():
    return Net(), torch.randn(1, 4)


def build_exit():
    sys.exit(3)
"""


def test_argparse_at_import_is_one_sentence(tmp_path):
    (tmp_path / "argp.py").write_text(ARGPARSE)
    with pytest.raises(HwprofError, match=r"importing .*argp\.py called sys\.exit\(2\).*argparse"):
        resolve_model(f"{tmp_path / 'argp.py'}:build")


def test_a_factory_that_exits_is_one_sentence(tmp_path):
    (tmp_path / "exits.py").write_text(EXITS)
    result = CliRunner().invoke(main, ["measure", f"{tmp_path / 'exits.py'}:build_exit", *FAST])
    assert result.exit_code == 1
    assert "exits.py:build_exit called sys.exit(3)" in result.output and "argparse" not in result.output


def test_a_forward_that_exits_names_the_model_and_its_input(tmp_path):
    (tmp_path / "exits.py").write_text(EXITS)
    out = tmp_path / "e.parquet"
    args = [f"{tmp_path / 'exits.py'}:build", "--batch-size", "1,2", *FAST, "--out", str(out)]
    result = CliRunner().invoke(main, ["measure", *args])
    assert result.exit_code == 1
    assert "exits.py:build on input" in result.output
    assert "called sys.exit('batch > 1 unsupported')" in result.output
