"""A search whose standard output takes no more lines (`| head -n 2`, `>/dev/full`) still writes its results,
and does not blame the study's storage for it."""

import errno
import json
import sys

import click
import pytest
import yaml

import hwprof.cli.search
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from fakes.streams import FailingStdout
from hwprof.cli import main


def _search_with_stdout(tmp_path, monkeypatch, error: OSError):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    args = ["search", str(space), "--constraint", "latency_ms<=1", "--trials", "4", "--seed", "1"]
    with open(tmp_path / "stdout.txt", "w") as kept:
        monkeypatch.setattr(sys, "stdout", FailingStdout(kept.fileno(), error))
        try:
            return main.main([*args, "--out", str(tmp_path / "out")], standalone_mode=False)
        except SystemExit as exit_:
            return exit_.code


def test_a_reader_that_leaves_ends_the_search_as_sigpipe_with_its_results_written(tmp_path, monkeypatch):
    """`hwprof search ... | head -n 2` exited 141 and left no --out folder: every finished trial was lost."""
    assert _search_with_stdout(tmp_path, monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe")) == 141
    written = json.loads((tmp_path / "out" / "search.json").read_text())
    assert written["trials_finished"] >= 1
    assert (tmp_path / "out" / "pareto.png").exists()


def test_a_full_standard_output_is_not_called_a_storage_failure(tmp_path, monkeypatch):
    """`>/dev/full` said 'cannot write the study to memory ... run the same command to resume', then removed
    the --out folder."""
    with pytest.raises(click.ClickException) as refused:
        _search_with_stdout(tmp_path, monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    said = refused.value.format_message()
    assert said == (
        "cannot write to the standard output: No space left on device; the finished trials are in "
        f"{tmp_path / 'out' / 'search.json'}"
    )
    assert json.loads((tmp_path / "out" / "search.json").read_text())["trials_finished"] >= 1
