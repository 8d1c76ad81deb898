"""A path too long for the system (PATH_MAX) is refused in one sentence before any work: measure, merge and
report ended in 'OSError: [Errno 36] File name too long', and fit ran the whole fit first."""

import os

import pytest

from hwprof.dataset import check_dataset_output
from hwprof.errors import HwprofError
from hwprof.files import check_output


def _deep(tmp_path, monkeypatch, name: str):
    """A file in 20 nested folders of 200-character names, which exist (made one at a time, as `cd` would)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path
    for _ in range(20):
        os.mkdir("d" * 200)
        os.chdir("d" * 200)
        folder = folder / ("d" * 200)
    monkeypatch.chdir(tmp_path)
    return folder / name


def test_an_output_path_past_the_systems_limit_is_one_sentence(tmp_path, monkeypatch):
    out = _deep(tmp_path, monkeypatch, "report.html")
    with pytest.raises(HwprofError, match="past this system's limit of"):
        check_output(out)
    with pytest.raises(HwprofError, match="past this system's limit of"):
        check_dataset_output(out.with_name("x.parquet"))


def test_a_long_path_within_the_limit_is_taken(tmp_path):
    folder = tmp_path / ("d" * 200) / ("e" * 200)
    folder.mkdir(parents=True)
    assert check_output(folder / "report.html") == folder / "report.html"
