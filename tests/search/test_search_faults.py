"""Faults inside a search: a factory or objective that fails costs one trial, an interruption or an error keeps
every finished one."""

import logging
import math
import signal

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, build_toy, score_toy
from hwprof.cli import Interrupted
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import stopped_short, summary_lines
from hwprof.search.space import space_from_dict
from hwprof.search.study import FAILURES_IN_A_ROW, SearchInterrupted, SearchOptions, SearchStopped, run_search


@pytest.fixture
def optuna_records():
    """What Optuna logs at WARNING and above during the test (it shows failed trials with their traceback)."""
    import optuna

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.records = []

        def emit(self, record):
            self.records.append(record)

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    handler = Collect()
    logging.getLogger("optuna").addHandler(handler)
    yield handler.records
    logging.getLogger("optuna").removeHandler(handler)
    optuna.logging.set_verbosity(verbosity)


def search(objective, trials=12, **extra):
    space = space_from_dict({**TOY_SPACE, "objective": None})
    options = SearchOptions(trials=trials, constraints=parse_constraints(["latency_ms<=5"]), seed=2, **extra)
    return run_search(space, ToyPredictor(), objective, "toy_objective", options)


def fails_on_narrow_head(model, params):
    if params["head"] == "narrow":
        raise RuntimeError("out of data\nsecond line of the message")
    return score_toy(model, params)


def test_a_trial_whose_objective_raises_is_recorded_as_failed_and_the_study_goes_on(optuna_records):
    result = search(fails_on_narrow_head)
    failed = [r for r in result.records if r.state == "failed"]
    trained = [r for r in result.records if r.trained]
    assert failed and trained  # both heads were drawn: the study went on after a failure
    assert all(r.params["head"] == "narrow" for r in failed)
    assert all(r.params["head"] == "wide" for r in trained)
    assert all(r.error == "RuntimeError: out of data" and r.score is None for r in failed)
    assert result.failed == len(failed) and len(result.records) == 12 + len(failed)
    assert len(result.finished) == 12  # failed trials are not finished ones: others ran in their place
    assert result.best.params["head"] == "wide"
    summary = result.to_dict()
    assert summary["failed_trials"] == len(failed)
    assert {t["state"] for t in summary["trials"]} - {"repeated"} == {"trained", "failed"}
    assert all(t["error"] == "RuntimeError: out of data" for t in summary["trials"] if t["state"] == "failed")
    assert optuna_records == []  # no "Trial 3 failed ... Traceback" from Optuna's logger


def test_an_objective_that_always_raises_ends_after_failures_in_a_row(optuna_records):
    def broken(model, params):
        raise ValueError("no data")

    result = search(broken, trials=5)
    assert [r.state for r in result.records] == ["failed"] * FAILURES_IN_A_ROW
    assert result.best is None and result.finished == []
    assert optuna_records == []
    lines = summary_lines(result)
    assert "0 of 5 trials finished" in lines[0] and f"{FAILURES_IN_A_ROW} failed (the factory or objective" in lines[0]
    assert lines[-1].startswith("every trial not skipped failed, the first (trial 0")
    assert lines[-1].endswith("because the objective raised ValueError: no data: fix the objective and run again")


def test_a_diverged_training_or_a_failing_factory_fails_its_trial_and_the_study_goes_on(optuna_records):
    def diverges_with_a_narrow_head(model, params):
        return math.nan if params["head"] == "narrow" else score_toy(model, params)

    def too_wide_above_14(width, head):
        if width > 14:
            raise ValueError("too wide\nsecond line")
        return build_toy(width, head)

    space = space_from_dict({**TOY_SPACE, "factory": too_wide_above_14, "objective": None})
    options = SearchOptions(trials=12, constraints=parse_constraints(["latency_ms<=5"]), seed=2)
    result = run_search(space, ToyPredictor(), diverges_with_a_narrow_head, "toy_objective", options)
    failed = {(r.failed_in, r.error) for r in result.records if r.state == "failed"}
    assert failed == {("factory", "ValueError: too wide"), ("objective", "returned nan, not a finite score")}
    assert len(result.finished) == 12 and result.best.params["head"] == "wide"  # it went on past each failure
    factory_failure = next(r for r in result.records if r.failed_in == "factory")
    assert factory_failure.train_s is None and factory_failure.failure.startswith("the factory raised ValueError")
    assert result.to_dict()["trials"][factory_failure.number]["failed_in"] == "factory"
    assert optuna_records == []


def test_an_error_that_stops_the_search_keeps_every_finished_trial(optuna_records):
    calls = []

    def odd_on_fourth_call(model, params):
        calls.append(params)
        return "high" if len(calls) == 4 else score_toy(model, params)

    with pytest.raises(SearchStopped) as caught:
        search(odd_on_fourth_call, trials=10)
    assert "objective toy_objective returned 'high': it must return one number" in str(caught.value.error)
    records = caught.value.result.records
    # the trial that stopped it, with its error; a repeat of an earlier configuration called no objective
    assert [r.state for r in records if r.state != "repeated"] == ["trained"] * 3 + ["failed"]
    assert records[-1].failed_in == "objective" and "returned 'high'" in records[-1].error


def test_an_objective_that_calls_sys_exit_stops_the_search_in_one_sentence_keeping_its_trials():
    """A training script reused as the objective parses hwprof's own command line with argparse and exits."""

    def parses_arguments(model, params):
        raise SystemExit(2)

    with pytest.raises(SearchStopped) as caught:
        search(parses_arguments, trials=3)
    assert "called sys.exit(2), as a training script's argparse does" in str(caught.value.error)
    assert [r.state for r in caught.value.result.records] == ["failed"]


def interrupted_at_call(n, interrupt):
    calls = []

    def objective(model, params):
        calls.append(params)
        if len(calls) == n:
            raise interrupt
        return score_toy(model, params)

    return objective


@pytest.mark.parametrize("interrupt, exit_code", [(KeyboardInterrupt(), 130), (Interrupted(signal.SIGTERM), 143)])
def test_an_interrupt_stops_the_search_with_every_finished_trial(optuna_records, interrupt, exit_code):
    with pytest.raises(SearchInterrupted) as caught:
        search(interrupted_at_call(4, interrupt), trials=10)
    assert isinstance(caught.value, KeyboardInterrupt)  # callers that stop on Ctrl-C still do
    assert caught.value.exit_code == exit_code
    result = caught.value.result
    assert [r.state for r in result.records if r.state != "repeated"] == ["trained"] * 3 + ["interrupted"]
    assert len(result.finished) == 3 + result.repeated and result.best is not None
    assert optuna_records == []


def test_failed_trials_do_not_count_toward_the_trials_asked_for():
    result = search(fails_on_narrow_head, trials=12)
    assert result.failed > 0
    assert len(result.finished) == 12  # twelve evaluated, however many failed on the way
    assert len(result.records) == 12 + result.failed
    assert result.stopped_after_failures is None and stopped_short(result) is None
    summary = result.to_dict()
    assert summary["trials_finished"] == 12 and summary["failed_trials"] == result.failed
    assert summary["trials_wanted"] == 12
    trained = 12 - result.repeated  # a repeat takes an earlier trial's score, not trained again
    assert (
        f"12 trials finished, {trained} trained, 0 trainings skipped as predicted infeasible, "
        f"{result.repeated} repeated an earlier trial's configuration" in summary_lines(result)[0]
    )
    assert f", {result.failed} failed (" in summary_lines(result)[0]


def test_a_search_whose_every_trial_fails_stops_after_failures_in_a_row():
    def broken(model, params):
        raise ValueError("no data")

    result = search(broken, trials=40)
    assert [r.state for r in result.records] == ["failed"] * FAILURES_IN_A_ROW
    assert result.stopped_after_failures == FAILURES_IN_A_ROW and result.finished == []
    assert "0 of 40 trials finished" in summary_lines(result)[0]
    assert stopped_short(result).startswith(
        f"the search stopped after {FAILURES_IN_A_ROW} trials in a row failed, with 0 of the 40 trials asked for "
        f"finished; the last (trial {FAILURES_IN_A_ROW - 1}, "
    )
    assert stopped_short(result).endswith(
        "because the objective raised ValueError: no data: fix the objective and run again"
    )


def test_failures_in_a_row_are_counted_in_this_run_and_a_resumed_study_finishes_its_trials(tmp_path):
    journal = str(tmp_path / "study.journal")
    calls = []

    def broken_then_fixed(model, params):  # the first run's objective is broken; the user fixes it and resumes
        calls.append(params)
        if len(calls) <= FAILURES_IN_A_ROW:
            raise ValueError("no data")
        return score_toy(model, params)

    first = search(broken_then_fixed, trials=6, storage=journal)
    assert first.stopped_after_failures == FAILURES_IN_A_ROW and first.finished == []
    resumed = search(broken_then_fixed, trials=6, storage=journal)
    assert resumed.stopped_after_failures is None
    assert len(resumed.finished) == 6 and resumed.failed == FAILURES_IN_A_ROW  # the journal keeps the failures
    again = search(broken_then_fixed, trials=6, storage=journal)
    assert len(again.records) == len(resumed.records)  # six finished already: nothing more runs
