"""hwprof's own warnings are shown once per text in a process: Python's once-per-line registry is reset whenever
anything changes the warning filters (pandas does, inside every predict), so a design loop predicting one MC
dropout module 30 times printed the same warning 30 times. A caller's filters still see the first."""

import warnings

import pytest

from hwprof.errors import HwprofWarning, warn, warnings_as_notes


def warn_and_reset_filters(text: str) -> None:
    warn(text)
    warnings.simplefilter("default")  # as pandas does: the registry of warnings shown is cleared


def test_a_warning_is_shown_once_however_often_the_filters_change():
    with warnings.catch_warnings(record=True) as caught:  # recorded, not printed: pytest may capture them itself
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for _ in range(5):
            warn_and_reset_filters("the dropout was left in training mode")
        warn_and_reset_filters("another text is another warning")
    shown = [str(w.message) for w in caught]
    assert shown.count("the dropout was left in training mode") == 1
    assert shown.count("another text is another warning") == 1


def test_a_callers_filters_see_the_warning():
    with pytest.warns(HwprofWarning, match="seen by pytest"):
        warn("seen by pytest")
    with warnings.catch_warnings():
        warnings.simplefilter("error", HwprofWarning)
        with pytest.raises(HwprofWarning, match="raised as an error"):
            warn("raised as an error")
        with pytest.raises(HwprofWarning, match="raised as an error"):  # one raised was not shown: it raises again
            warn("raised as an error")


def test_each_command_shows_its_notes_once():
    for _ in range(2):
        notes = []
        with warnings_as_notes(notes.append):
            warn("a note of the command")
            warn("a note of the command")
        assert notes == ["note: a note of the command"]


def test_each_public_call_about_a_dataset_warns_afresh(tmp_path, monkeypatch):
    """A notebook reading (or measuring, fitting) twice is told twice: the once is per call there, kept per
    process only for predicting, which a design loop calls thousands of times."""
    from pathlib import Path

    import hwprof

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent / "dataset"))
    from test_unfinished import killed_run

    path = tmp_path / "killed.parquet"
    killed_run(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            hwprof.read_dataset(path)
    unfinished = [w for w in caught if issubclass(w.category, hwprof.UnfinishedDatasetWarning)]
    assert len(unfinished) == 2


def test_the_public_calls_pickle_by_name_for_a_process_pool():
    import pickle

    import hwprof

    for name in ("measure", "read_dataset", "merge", "fit", "evaluate"):
        function = getattr(hwprof, name)
        assert pickle.loads(pickle.dumps(function)) is function
        assert function.__wrapped__.__name__ == function.__name__  # each call warns afresh


def test_a_call_in_one_thread_does_not_hide_another_threads_warnings():
    """The once of a call is its own thread's: a call running in another thread neither shares nor replaces it."""
    import threading

    from hwprof.errors import each_call_warns_afresh

    started, release, seen = threading.Event(), threading.Event(), []

    @each_call_warns_afresh
    def call(wait: bool) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn("a text both calls say")
            if wait:
                started.set()
                release.wait(5)
        seen.append(len(caught))

    other = threading.Thread(target=call, args=(True,))
    other.start()
    started.wait(5)
    call(False)
    release.set()
    other.join(5)
    assert seen == [1, 1]
