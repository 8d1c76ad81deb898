"""`hwprof search --storage` is opened before the demo measures and fits its predictor (minutes), so a storage
that does not open costs no minute, and a journal not there yet is not created by a refused search."""

import re

import pytest
from click.testing import CliRunner

import hwprof.search.demo
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.search.study import check_storage


@pytest.fixture
def no_demo_measurement(monkeypatch):
    def measured(*args, **kwargs):
        raise AssertionError("the demo measured before --storage was checked")

    monkeypatch.setattr(hwprof.search.demo, "demo_predictor", measured)


STORAGES = {
    "a journal in a missing folder": ("no/such/folder/study.journal", "folder .* does not exist"),
    "a file that is no journal": ("notes.journal", "is not a readable Optuna journal"),
    "a database that is not there": ("postgresql://hwprof@127.0.0.1:9/nowhere", "storage|driver"),
}


@pytest.mark.parametrize("storage, message", STORAGES.values(), ids=STORAGES.keys())
def test_the_demo_refuses_a_storage_that_does_not_open_before_it_measures(
    tmp_path, monkeypatch, no_demo_measurement, storage, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.journal").write_text("my notes\n")
    result = CliRunner().invoke(main, ["search", "demo", "--storage", storage, "--out", "found"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert re.search(message, result.output), result.output
    assert not (tmp_path / "found").exists()


def test_a_new_journal_is_not_created_by_checking_the_storage(tmp_path):
    journal = tmp_path / "study.journal"
    check_storage(str(journal))
    assert not journal.exists()


def test_a_new_journal_in_a_missing_folder_is_refused_by_the_storage_check(tmp_path):
    with pytest.raises(HwprofError, match=r"cannot open journal file .*: the folder .* does not exist"):
        check_storage(str(tmp_path / "gone" / "study.journal"))
