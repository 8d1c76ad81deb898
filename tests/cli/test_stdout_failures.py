"""A standard output that fails: a full disk (`>/dev/full`), or a reader gone on Windows, which has no SIGPIPE."""

import errno
import signal
import sys

import click
import pytest

from fakes.streams import FailingStdout
from hwprof.cli import main


def models_with_stdout(tmp_path, monkeypatch, error: OSError):
    with open(tmp_path / "stdout.txt", "w") as kept:
        monkeypatch.setattr(sys, "stdout", FailingStdout(kept.fileno(), error))
        try:
            return main.main(["models"], standalone_mode=False)
        except SystemExit as exit_:
            return exit_.code


def test_a_full_standard_output_is_one_sentence_not_a_bug(tmp_path, monkeypatch):
    """`hwprof models >/dev/full` said 'hwprof failed unexpectedly (OSError: [Errno 28] ...); this is a bug'."""
    with pytest.raises(click.ClickException) as refused:
        models_with_stdout(tmp_path, monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    assert refused.value.format_message() == "cannot write to the standard output: No space left on device"
    assert refused.value.exit_code == 1


def test_a_reader_gone_on_windows_exits_quietly_without_sigpipe(tmp_path, monkeypatch):
    """Windows has no signal.SIGPIPE: `hwprof models | more` that stopped early printed an AttributeError."""
    monkeypatch.delattr(signal, "SIGPIPE")
    assert models_with_stdout(tmp_path, monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe")) == 1
