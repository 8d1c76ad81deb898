"""`measure --resume` refuses a model file that changed since the run it continues, or that its path now names
another file: the name is the path as typed, so the earlier batch sizes' rows (12,218 params) and the rest
(47,466 after WIDTH 16 -> 32) read as one network. The file's digest decides, so a folder moved elsewhere with
the same file resumes. A plan from before files were recorded still resumes."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_provenance

FAST = ["--power", "none", "--max-time", "0.05", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]
NET = """
import torch.nn as nn


def build():
    model = nn.Sequential(nn.Linear(16, {width}), nn.ReLU(), nn.Linear({width}, 2))
    model.input_shape = (16,)
    return model
"""


def measure(out, *extra):
    return CliRunner().invoke(
        main, ["measure", "net.py:build", "--batch-size", "1,2", "--out", str(out), *FAST, *extra]
    )


@pytest.fixture
def cut_short(tmp_path, monkeypatch):
    """A dataset of net.py:build (width 8) whose batch 2 is still to measure, as an interrupted run leaves it."""
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "net.py").write_text(NET.format(width=8))
    monkeypatch.chdir(folder)
    out = tmp_path / "net.parquet"
    assert measure(out).exit_code == 0
    rows = pd.read_parquet(out)
    rows[rows["batch_size"] == 1].to_parquet(out)
    return out


def test_a_resume_after_the_file_was_edited_is_refused_naming_it(cut_short, tmp_path):
    (tmp_path / "a" / "net.py").write_text(NET.format(width=64))
    before = cut_short.read_bytes()
    result = measure(cut_short, "--resume")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{tmp_path / 'a' / 'net.py'} changed since {cut_short} was measured from it" in result.output
    assert "measure the changed one to another --out, or put the file back" in result.output
    assert "\n" not in result.output.strip()
    assert cut_short.read_bytes() == before
    assert set(pd.read_parquet(cut_short)["batch_size"]) == {1}


def test_a_resume_whose_path_names_another_file_is_refused(cut_short, tmp_path, monkeypatch):
    other = tmp_path / "b"
    other.mkdir()
    (other / "net.py").write_text(NET.format(width=16))  # another file under the same name
    monkeypatch.chdir(other)
    result = measure(cut_short, "--resume")
    assert result.exit_code == 1, result.output
    assert f"as {tmp_path / 'a' / 'net.py'}, and net.py:build now names {other / 'net.py'}, whose text differs" in (
        result.output
    )


def test_a_resume_after_the_folder_was_moved_carries_on(cut_short, tmp_path, monkeypatch):
    """The digest decides, not the path: the same file in a folder moved elsewhere resumes."""
    moved = tmp_path / "moved" / "a"
    moved.parent.mkdir()
    (tmp_path / "a").rename(moved)
    monkeypatch.chdir(moved)
    result = measure(cut_short, "--resume")
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(cut_short)["batch_size"]) == {1, 2}


def test_a_plan_recorded_without_a_digest_is_checked_by_its_path(cut_short, tmp_path, monkeypatch):
    sidecar = cut_short.with_name(cut_short.name + ".json")
    record = json.loads(sidecar.read_text())
    for run in record["runs"]:
        run["plan"]["model_files"]["net.py:build"]["digest"] = None
    sidecar.write_text(json.dumps(record))
    other = tmp_path / "b"
    other.mkdir()
    (other / "net.py").write_text(NET.format(width=8))
    monkeypatch.chdir(other)
    result = measure(cut_short, "--resume")
    assert result.exit_code == 1, result.output
    assert f"as {tmp_path / 'a' / 'net.py'}, and net.py:build now names {other / 'net.py'};" in result.output


def test_the_same_file_resumes_and_a_plan_from_before_files_were_recorded_too(cut_short, tmp_path):
    assert read_provenance(cut_short)[-1]["plan"]["model_files"]["net.py:build"]["path"].endswith("net.py")
    assert measure(cut_short, "--resume").exit_code == 0
    assert set(pd.read_parquet(cut_short)["batch_size"]) == {1, 2}
    rows = pd.read_parquet(cut_short)
    rows[rows["batch_size"] == 1].to_parquet(cut_short)
    sidecar = cut_short.with_name(cut_short.name + ".json")
    record = json.loads(sidecar.read_text())
    for run in record["runs"]:
        del run["plan"]["model_files"]
    sidecar.write_text(json.dumps(record))
    (tmp_path / "a" / "net.py").write_text(NET.format(width=64))  # unknowable to such a plan: resumed as before
    result = measure(cut_short, "--resume")
    assert result.exit_code == 0, result.output
