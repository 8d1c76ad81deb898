"""A full disk or a file-size limit during a search: the results still reach the terminal, and a study journal
that cannot be written is said in one sentence instead of Optuna's internal AssertionError."""

import errno
from pathlib import Path

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, SearchStopped, run_search


def _search(storage=None, trials=6):
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=trials, constraints=parse_constraints(["latency_ms<=1"]), seed=1, storage=storage)
    return space, run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)


def _refuse_appends_after(monkeypatch, allowed: int) -> None:
    """The journal file takes `allowed` appends, then every write fails as a file-size limit makes it fail."""
    from optuna.storages.journal import JournalFileBackend

    original = JournalFileBackend.append_logs
    calls = {"n": 0}

    def append_logs(self, logs):
        calls["n"] += 1
        if calls["n"] > allowed:
            raise OSError(errno.EFBIG, "File too large")
        return original(self, logs)

    monkeypatch.setattr(JournalFileBackend, "append_logs", append_logs)


def test_a_journal_that_fills_up_mid_study_stops_it_with_one_sentence(tmp_path, monkeypatch):
    _refuse_appends_after(monkeypatch, 12)
    with pytest.raises(SearchStopped) as stopped:
        _search(str(tmp_path / "study.journal"), trials=20)
    assert isinstance(stopped.value.error, HwprofError)  # Optuna raised "AssertionError: Should not reach."
    assert str(stopped.value.error).startswith(
        f"cannot write the study to {tmp_path / 'study.journal'}: File too large"
    )
    assert "run the same command to resume" in str(stopped.value.error)


def test_a_journal_that_takes_no_entry_is_refused_before_any_trial(tmp_path, monkeypatch):
    _refuse_appends_after(monkeypatch, 0)
    with pytest.raises(HwprofError, match="cannot write the study to .*study.journal: File too large"):
        _search(str(tmp_path / "study.journal"))


def test_the_results_are_shown_when_search_json_cannot_be_written(tmp_path, monkeypatch, capsys):
    from hwprof.cli.search import _report
    from hwprof.search import results

    space, result = _search()

    def refuse(path, text, force=True):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results, "write_text_atomically", refuse)
    with pytest.raises(HwprofError) as refused:
        _report(result, space, tmp_path, False, 1, "cpu", "none", None)
    assert str(refused.value) == (
        f"cannot write the search results to {Path(tmp_path) / 'search.json'}: No space left on device; "
        "the results above were not saved"
    )
    shown = capsys.readouterr().out
    assert f"best feasible: trial {result.best.number}, score {result.best.score:.4g}" in shown
