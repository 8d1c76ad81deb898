"""search --out: a folder that cannot be made is one sentence naming it, before any trial."""

import os

from click.testing import CliRunner

from hwprof.cli import main


def test_a_dangling_link_as_out_is_one_sentence(tmp_path, monkeypatch):
    """It ended in 'hwprof failed unexpectedly (FileExistsError ...)'."""
    monkeypatch.chdir(tmp_path)
    os.symlink("nowhere", "results")
    result = CliRunner().invoke(main, ["search", "demo", "--trials", "1", "--out", "results"])
    assert result.exit_code == 1 and "failed unexpectedly" not in result.output
    assert "results is a link to nowhere, which does not exist: give a folder for --out" in result.output


def test_an_out_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    """It said 'Output directory . is not writable', naming the folder's parent as the output."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["search", "demo", "--trials", "1", "--out", "missing/results"])
    assert result.exit_code == 1 and "cannot create the folder missing/results for --out" in result.output
