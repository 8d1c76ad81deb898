"""Studies kept in a journal file: resumed after an interruption, shared by several processes."""

import importlib.util
import multiprocessing
import os
import random
import signal
import time

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
from hwprof.errors import HwprofError, HwprofWarning
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import load_space, space_from_dict
from hwprof.search.study import SearchOptions, open_storage, run_search


def options(journal, trials, **extra):
    return SearchOptions(
        trials=trials,
        constraints=parse_constraints(["latency_ms<=1"]),
        storage=str(journal),
        study_name="toy-study",
        **extra,
    )


def test_resumes_an_interrupted_study_and_keeps_its_finished_trials(tmp_path):
    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    calls = []

    def interrupted_after_three_trainings(model, params):
        calls.append(params)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return score_toy(model, params)

    with pytest.raises(KeyboardInterrupt):
        run_search(space, ToyPredictor(), interrupted_after_three_trainings, "toy", options(journal, 30, seed=3))
    before = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 1))  # reads, runs nothing
    finished_before = {r.number: r.params for r in before.finished}
    assert sum(r.trained for r in before.records) == 3

    resumed = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 30, seed=4))
    assert len(resumed.finished) == 30
    assert {r.number: r.params for r in resumed.finished if r.number in finished_before} == finished_before
    assert resumed.best.params == {"width": 10, "head": "wide"}


def test_a_trial_stopped_by_ctrl_c_is_shown_interrupted_once_the_study_went_on_without_it(tmp_path):
    """It used to stay 'unfinished (interrupted or still running elsewhere)' after the study completed."""
    from hwprof.search.report import summary_lines

    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)

    def interrupted_at_the_second_training(model, params, calls=[]):
        calls.append(params)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return score_toy(model, params)

    with pytest.raises(KeyboardInterrupt):
        run_search(space, ToyPredictor(), interrupted_at_the_second_training, "toy", options(journal, 6, seed=3))
    resumed = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 6, seed=4))
    assert len(resumed.finished) == 6
    assert [r.state for r in resumed.records].count("interrupted") == resumed.interrupted == 1
    assert resumed.unfinished == 0
    summary = resumed.to_dict()
    assert (summary["interrupted_trials"], summary["unfinished_trials"]) == (1, 0)
    first = summary_lines(resumed)[0]
    assert "1 interrupted (stopped by Ctrl-C or SIGTERM; an interrupted trial is never resumed" in first
    assert "unfinished" not in first


def test_resuming_with_other_budgets_is_refused(tmp_path):
    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 2))
    changed = options(journal, 4)
    changed.constraints = parse_constraints(["latency_ms<=2"])
    with pytest.raises(HwprofError, match="other constraints"):
        run_search(space, ToyPredictor(), score_toy, "toy", changed)


def _worker(journal, barrier, trials, queue):
    """One search process: waits for the others, then takes trials from the shared study."""
    from fakes.search_doubles import slow_score_toy

    space = space_from_dict(TOY_SPACE)
    mine = []
    barrier.wait()
    run_search(
        space,
        ToyPredictor(),
        slow_score_toy,
        "toy",
        options(journal, trials),
        on_trial=lambda record: mine.append(record.number),
    )
    queue.put((os.getpid(), mine))


@pytest.mark.slow
def test_journal_file_is_shared_by_several_processes(tmp_path):
    journal, workers, trials = tmp_path / "shared.journal", 3, 24
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_worker, args=(str(journal), barrier, trials, queue)) for _ in range(workers)]
    for process in processes:
        process.start()
    reports = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    result = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 1))
    numbers = [number for _, mine in reports for number in mine]
    assert len(numbers) == len(set(numbers))  # no trial was run twice
    assert sorted(numbers) == sorted(r.number for r in result.finished)
    assert trials <= len(result.finished) < trials + workers  # MaxTrials may overshoot by trials in flight
    assert sum(bool(mine) for _, mine in reports) >= 2  # the work was really shared
    assert result.wasted_trainings == 0 and result.unfinished == 0


def _hanging_worker(journal):
    def hang_on_third(model, params, calls=[]):
        calls.append(1)
        if len(calls) == 3:
            time.sleep(600)
        return score_toy(model, params)

    run_search(space_from_dict(TOY_SPACE), ToyPredictor(), hang_on_third, "toy", options(journal, 20, seed=5))


@pytest.mark.slow
def test_resumes_after_the_worker_process_is_killed(tmp_path):
    journal = tmp_path / "killed.journal"
    process = multiprocessing.get_context("spawn").Process(target=_hanging_worker, args=(str(journal),))
    process.start()
    space = space_from_dict(TOY_SPACE)
    seen, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if journal.exists():
            seen = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 1))
            if seen.unfinished:
                break
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert seen is not None and seen.unfinished == 1

    resumed = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 20))
    assert len(resumed.finished) == 20
    assert resumed.unfinished == 1  # the killed trial stays visible, never counted as finished
    assert sum(r.trained for r in resumed.records) >= 3


def test_unreachable_database_is_one_sentence():
    with pytest.raises(HwprofError, match="storage|driver"):
        open_storage("postgresql://hwprof:secret@127.0.0.1:9/nowhere")


def test_journal_in_a_missing_directory_is_one_sentence(tmp_path):
    with pytest.raises(HwprofError, match="journal file"):
        open_storage(str(tmp_path / "no" / "such" / "dir" / "study.journal"))


def test_resuming_with_another_sampler_is_refused(tmp_path):
    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 2))
    with pytest.raises(HwprofError, match="same sampler"):
        run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 4, sampler="nsga2"))


def test_resuming_in_the_other_direction_names_the_direction(tmp_path):
    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 2))
    with pytest.raises(
        HwprofError, match=r"was run to maximize, not minimize: resume it with the same sampler and direction"
    ):
        run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 4, direction="minimize"))


def a_journal(tmp_path):
    journal = tmp_path / "good.journal"
    run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 3))
    return journal.read_bytes()


CORRUPT_JOURNALS = {
    "random bytes": lambda good: random.Random(0).randbytes(300),
    "cut in something that is no entry": lambda good: good + b"garbage without its newline",
    "text": lambda good: b"hello\n",
    "JSON that is no journal entry": lambda good: b'{"a": 1}\n',
    "a JSON list": lambda good: b"[1, 2]\n",
    "a bad entry in the middle": lambda good: good + b"not json\n" + good,
}


@pytest.mark.parametrize("corrupt", CORRUPT_JOURNALS.values(), ids=CORRUPT_JOURNALS.keys())
def test_a_corrupt_journal_is_refused_in_one_sentence_and_left_as_it_was(tmp_path, corrupt):
    journal = tmp_path / "study.journal"
    journal.write_bytes(corrupt(a_journal(tmp_path)))
    before = journal.read_bytes()
    with pytest.raises(HwprofError, match=f"{journal} is not a readable Optuna journal .*move it away or give"):
        run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 5))
    assert journal.read_bytes() == before  # nothing appended to it
    assert not (tmp_path / "study.journal.lock").exists()


def test_a_journal_cut_in_its_last_entry_drops_that_entry_and_resumes(tmp_path, capsys):
    """A search killed while writing an entry leaves it torn; Optuna would fail once another entry follows it.
    The torn entry holds no whole trial: it is dropped (with a HwprofWarning, not a print of the library's own)
    and the finished trials are kept."""
    journal = tmp_path / "study.journal"
    good = a_journal(tmp_path)
    journal.write_bytes(good[:-5])
    with pytest.warns(HwprofWarning, match="ended halfway through an entry"):
        before = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 1))
    assert "halfway" not in capsys.readouterr().err
    assert len(before.finished) == 2  # of the 3: the third's last entry was the torn one
    resumed = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 5))
    assert len(resumed.finished) == 5


def test_an_empty_journal_starts_a_study(tmp_path):
    journal = tmp_path / "study.journal"
    journal.touch()
    result = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 2))
    assert len(result.finished) == 2


def build_scaled(width, head, scale=1):
    from fakes.search_doubles import build_toy

    return build_toy(width * scale, head)


SCALED_SPACE = {**TOY_SPACE, "factory": build_scaled}
SPACE_CHANGES = {
    "choices": {"params": {**TOY_SPACE["params"], "head": ["narrow", "wide", "deep"]}},
    "range": {"params": {**TOY_SPACE["params"], "width": {"low": 2, "high": 30, "step": 2}}},
    "a parameter more": {"params": {**TOY_SPACE["params"], "scale": [1, 2]}},
    "fixed": {"fixed": {"scale": 2}},
    "input_shape": {"input_shape": [5]},
    "factory": {"factory": "fakes.search_doubles:build_toy"},
}


@pytest.mark.parametrize("change", SPACE_CHANGES.values(), ids=SPACE_CHANGES.keys())
def test_resuming_after_the_space_changed_is_refused_before_any_trial(tmp_path, change):
    import optuna

    journal = tmp_path / "study.journal"
    run_search(space_from_dict(SCALED_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 3))
    changed = space_from_dict({**SCALED_SPACE, **change})
    with pytest.raises(HwprofError, match="space 'toy' has changed since .*pick a new study_name"):
        run_search(changed, ToyPredictor(), score_toy, "toy", options(journal, 6))
    trials = optuna.load_study(study_name="toy-study", storage=open_storage(str(journal))).trials
    assert len(trials) == 3 and all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)


def test_the_same_space_written_in_another_order_resumes(tmp_path):
    journal = tmp_path / "study.journal"
    run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 2))
    reordered = {**TOY_SPACE, "params": dict(reversed(list(TOY_SPACE["params"].items())))}
    resumed = run_search(space_from_dict(reordered), ToyPredictor(), score_toy, "toy", options(journal, 4))
    assert len(resumed.finished) == 4


def test_a_study_stored_without_a_fingerprint_resumes_and_gets_one(tmp_path):
    import optuna

    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 2))
    study = optuna.load_study(study_name="toy-study", storage=open_storage(str(journal)))
    settings = dict(study.user_attrs["settings"])
    for key in ("space_fingerprint", "predictor", "objective"):
        del settings[key]
    study.set_user_attr("settings", settings)  # as a study written before these were kept

    resumed = run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 4))
    assert len(resumed.finished) == 4
    study = optuna.load_study(study_name="toy-study", storage=open_storage(str(journal)))
    assert study.user_attrs["settings"]["space_fingerprint"] == space.fingerprint()
    assert study.user_attrs["settings"]["objective"] == "toy"


class _FittedToyPredictor(ToyPredictor):
    """The toy predictor with a predictor file's document, as `hwprof fit` writes one."""

    def __init__(self, created):
        super().__init__()
        self.doc = {"device_name": "toy board", "created": created, "network_models": {}}


def test_resuming_with_another_predictor_or_objective_is_refused(tmp_path):
    journal = tmp_path / "study.journal"
    space = space_from_dict(TOY_SPACE)
    first = _FittedToyPredictor("2026-12-01T10:00:00+00:00")
    run_search(space, first, score_toy, "toy", options(journal, 2))
    refitted = _FittedToyPredictor("2026-12-05T10:00:00+00:00")  # the earlier trials' costs came from the first
    with pytest.raises(HwprofError, match=r"was run with other predictor \(predictor: 'toy board, fitted 2026-12-01"):
        run_search(space, refitted, score_toy, "toy", options(journal, 4))
    with pytest.raises(HwprofError, match=r"was run with other objective \(objective: 'toy'\)"):
        run_search(space, first, score_toy, "other.py:evaluate", options(journal, 4))
    resumed = run_search(space, _FittedToyPredictor("2026-12-01T10:00:00+00:00"), score_toy, "toy", options(journal, 4))
    assert len(resumed.finished) == 4  # the same predictor, loaded again


def test_a_python_space_file_keeps_its_fingerprint_wherever_it_is_imported_from(tmp_path):
    # a user's file is imported under a module name made from a hash of its path, which also changes per run
    text = (
        "from fakes.search_doubles import TOY_SPACE, ToyNet\n"
        "def build(width, head):\n"
        "    return ToyNet(width, head)\n"
        "SPACE = {**TOY_SPACE, 'factory': build}\n"
    )
    fingerprints = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "space.py").write_text(text)
        fingerprints.add(load_space(str(tmp_path / folder / "space.py")).fingerprint())
    assert len(fingerprints) == 1


def test_messages_about_a_stored_study_never_show_the_database_password():
    from hwprof.search.study import _redact

    assert _redact("postgresql://hwprof:s3cret@db.example/studies") == "postgresql://hwprof:***@db.example/studies"
    assert _redact("study.journal") == "study.journal"


@pytest.mark.parametrize(
    ("module", "advice"),
    [
        ("psycopg", "pip install 'hwprof[postgres]'"),
        ("psycopg2", "pip install psycopg2-binary"),
        ("pymysql", "pip install pymysql"),
    ],
)
def test_a_missing_database_driver_names_the_package_that_provides_it(module, advice):
    """postgresql+psycopg2:// needs psycopg2, which hwprof's postgres extra (psycopg 3) does not bring."""
    from hwprof.search.study import _driver_hint

    assert _driver_hint(ModuleNotFoundError(f"No module named '{module}'", name=module)) == advice


def test_a_database_url_whose_driver_is_missing_says_what_to_install():
    pytest.importorskip("sqlalchemy")
    if importlib.util.find_spec("pymysql") is not None:
        pytest.skip("pymysql is installed")
    with pytest.raises(HwprofError, match="needs a database driver that is not installed: pip install pymysql"):
        open_storage("mysql+pymysql://hwprof:secret@127.0.0.1:9/nowhere")


def test_a_journal_on_windows_is_locked_without_a_symbolic_link(tmp_path, monkeypatch):
    """Making a link needs administrator rights on Windows: every search on a journal there failed with 'A
    required privilege is not held by the client'. There the lock is an exclusively created file."""
    import sys

    def no_links(*args, **kwargs):
        raise OSError(1314, "A required privilege is not held by the client")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "symlink", no_links)
    journal = tmp_path / "study.journal"
    result = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 3, seed=1))
    assert len(result.finished) == 3
    again = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 5, seed=1))
    assert len(again.finished) == 5  # resumed from the journal


@pytest.mark.parametrize(
    ("installed", "driver"),
    [({"psycopg", "psycopg2"}, "psycopg"), ({"psycopg"}, "psycopg"), ({"psycopg2"}, "psycopg2")],
)
def test_a_bare_postgresql_url_names_the_driver_installed(installed, driver, monkeypatch):
    """SQLAlchemy 2.0 reads postgresql:// as psycopg2: with the postgres extra's psycopg 3 it asked for
    psycopg2-binary. The URL names psycopg 3 where it is installed, which SQLAlchemy 2.0 and 2.1 read alike."""
    from hwprof.search.study import _database_url

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name in installed else None)
    for scheme in ("postgresql", "postgres"):
        assert _database_url(f"{scheme}://u:p@db/studies") == f"postgresql+{driver}://u:p@db/studies"
    assert _database_url("sqlite:///study.db") == "sqlite:///study.db"
