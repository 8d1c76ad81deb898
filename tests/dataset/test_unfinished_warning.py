"""A killed run's dataset read from Python: the note is a warning a caller can catch or filter, not a line
written to stderr behind its back."""

import warnings

import pytest
from test_unfinished import killed_run

import hwprof
from hwprof.dataset import read_dataset


def test_reading_an_unfinished_dataset_warns_with_its_own_class_and_prints_nothing(tmp_path, capsys):
    path = tmp_path / "dd.parquet"
    killed_run(path)
    with pytest.warns(hwprof.UnfinishedDatasetWarning) as caught:
        assert len(read_dataset(path)) == 13
    assert issubclass(hwprof.UnfinishedDatasetWarning, UserWarning)
    assert len(caught) == 1 and str(caught[0].message).startswith(f"{path} is from a run that did not finish")
    assert "5 more row(s) are in its journal dd.parquet.partial.jsonl" in str(caught[0].message)
    assert caught[0].filename == __file__  # the caller's line, not hwprof's
    assert capsys.readouterr().err == ""


def test_a_caller_can_silence_the_unfinished_note_by_its_class(tmp_path, capsys):
    path = tmp_path / "dd.parquet"
    killed_run(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning left unfiltered would raise here
        warnings.simplefilter("ignore", hwprof.UnfinishedDatasetWarning)
        assert len(read_dataset(path)) == 13
    assert capsys.readouterr().err == ""
