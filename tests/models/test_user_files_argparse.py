"""A model file whose argparse reads hwprof's own command line and exits 2 is hwprof's one sentence, with
argparse's error told within it: argparse's usage line and "error:" line were printed before it, read as hwprof
refusing its own command. What a file prints while it is imported and built otherwise comes out as it was."""

from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
AT_IMPORT = """
import argparse

import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--width", type=int, default=16)
args = parser.parse_args(["--depth", "3"])


def build():
    return nn.Linear(args.width, 4)
"""
AT_BUILD = """
import argparse

import torch.nn as nn


def build():
    print("building")
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, required=True)
    args = parser.parse_args([])
    return nn.Linear(args.width, 4)
"""
PRINTS = """
import sys

import torch.nn as nn

print("one")
print("two", file=sys.stderr)
print("three")


def build():
    print("four", file=sys.stderr)
    print("five")
    model = nn.Linear(4, 4)
    model.input_shape = (4,)
    return model
"""


def _measure(tmp_path, source: str, name: str = "build"):
    (tmp_path / "uf_argp.py").write_text(source)
    out = tmp_path / "argp.parquet"
    return CliRunner().invoke(main, ["measure", f"{tmp_path / 'uf_argp.py'}:{name}", "--out", str(out), *FAST])


def test_argparse_exiting_at_import_prints_hwprofs_sentence_alone(tmp_path):
    result = _measure(tmp_path, AT_IMPORT)
    assert result.exit_code == 1
    assert "usage:" not in result.output and ": error:" not in result.output
    assert result.output.count("\n") == 1, result.output
    assert "uf_argp.py called sys.exit(2) after argparse's error 'unrecognized arguments: --depth 3'" in result.output


def test_argparse_exiting_in_the_factory_keeps_what_the_factory_printed_before(tmp_path):
    result = _measure(tmp_path, AT_BUILD)
    assert result.exit_code == 1
    assert "usage:" not in result.output
    assert result.output.startswith("building\n"), result.output
    assert "uf_argp.py:build called sys.exit(2) after argparse's error 'the following arguments are required: " in (
        result.output
    )


def test_what_a_file_prints_while_imported_and_built_comes_out_unchanged_and_in_order(tmp_path):
    result = _measure(tmp_path, PRINTS)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("one\ntwo\nthree\nfour\nfive\n"), result.output
    assert result.stderr.startswith("two\nfour\n")
