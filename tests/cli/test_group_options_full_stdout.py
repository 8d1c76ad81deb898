"""`hwprof --help >/dev/full` and `hwprof --version >/dev/full` printed a 20-line traceback: the group's own options
print before any command is invoked, outside its handling of a stdout that cannot be written. Now one sentence."""

import errno
import sys

import pytest

from fakes.streams import FailingStdout
from hwprof.cli import main


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_the_groups_own_options_to_a_full_stdout_are_one_sentence(tmp_path, monkeypatch, capsys, option):
    with open(tmp_path / "stdout.txt", "w") as kept:
        monkeypatch.setattr(
            sys, "stdout", FailingStdout(kept.fileno(), OSError(errno.ENOSPC, "No space left on device"))
        )
        with pytest.raises(SystemExit) as exited:
            main.main([option], prog_name="hwprof")
    assert exited.value.code == 1
    assert capsys.readouterr().err == "Error: cannot write to the standard output: No space left on device\n"
