"""Faults inside a search: an objective that raises costs one trial, an interruption keeps every finished one."""

import logging

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import summary_lines
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


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
    assert result.failed == len(failed) and len(result.records) == 12
    assert len(result.finished) == 12 - len(failed)  # failed trials are not finished ones
    assert result.best.params["head"] == "wide"
    summary = result.to_dict()
    assert summary["failed_trials"] == len(failed)
    assert {t["state"] for t in summary["trials"]} == {"trained", "failed"}
    assert all(t["error"] == "RuntimeError: out of data" for t in summary["trials"] if t["state"] == "failed")
    assert optuna_records == []  # no "Trial 3 failed ... Traceback" from Optuna's logger


def test_an_objective_that_always_raises_ends_after_the_trials_asked_for(optuna_records):
    def broken(model, params):
        raise ValueError("no data")

    result = search(broken, trials=5)
    assert [r.state for r in result.records] == ["failed"] * 5
    assert result.best is None and result.finished == []
    assert optuna_records == []
    lines = summary_lines(result)
    assert "5 failed (the objective raised" in lines[0]
    assert lines[-1].startswith("every training failed; the first, trial 0") and "ValueError: no data" in lines[-1]
