"""A budget's text reads back as the budget: a count with more than 6 digits is neither rounded in search.json nor
taken, on resume, for a different budget that rounds to the same text."""

import optuna
import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraint, parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


@pytest.mark.parametrize("budget", ["2176009", "0.123456789", "12345678901234567890"])
def test_a_budget_text_reads_back_as_the_budget(budget):
    constraint = parse_constraint(f"params<={budget}")
    assert parse_constraint(constraint.text) == constraint
    assert constraint.text != "params<=2.17601e+06"


@pytest.mark.parametrize(("given", "text"), [("0.1", "0.1"), ("5", "5"), ("1e6", "1e+06"), ("2.5", "2.5")])
def test_a_budget_that_g_wrote_exactly_keeps_its_text(given, text):
    assert parse_constraint(f"latency_ms<={given}").text == f"latency_ms<={text}"  # stored studies compare it


def _search(journal, budget: str, trials: int):
    space = space_from_dict({**TOY_SPACE, "objective": None})
    options = SearchOptions(
        trials=trials,
        constraints=parse_constraints(["latency_ms<=5", f"params<={budget}"]),
        seed=1,
        storage=str(journal),
        study_name="budgets",
    )
    return run_search(space, ToyPredictor(), score_toy, "toy_objective", options)


def test_a_resume_with_a_budget_that_rounds_to_the_same_text_is_refused(tmp_path):
    journal = tmp_path / "study.journal"
    result = _search(journal, "2176009", 2)
    assert result.to_dict()["constraints"] == ["latency_ms<=5", "params<=2176009"]
    with pytest.raises(HwprofError, match="other constraints"):
        _search(journal, "2176011", 3)
    assert len(_search(journal, "2176009", 3).finished) == 3  # the same budgets resume


def test_a_resume_compares_the_recorded_budgets_as_numbers(tmp_path):
    journal = tmp_path / "study.journal"
    _search(journal, "2176010", 1)
    study = optuna.load_study(
        study_name="budgets",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))),
    )
    settings = study.user_attrs["settings"]
    assert settings["constraints"] == ["latency_ms<=5", "params<=2.17601e+06"]  # as older hwprof wrote it, exactly
    assert settings["budgets_exact"]
    study.set_user_attr("settings", {**settings, "constraints": ["latency_ms<=5.0", "params<=2176010"]})
    assert len(_search(journal, "2176010", 2).finished) == 2  # the same numbers, written otherwise
    with pytest.raises(HwprofError, match="other constraints"):
        _search(journal, "2176011", 3)


def test_a_value_held_against_a_budget_shows_which_side_of_it_it_lies(capsys):
    from hwprof.cli.search import _echo_trial
    from hwprof.search.report import held_text
    from hwprof.search.study import TrialRecord

    budget = parse_constraint("params<=2176009")
    assert held_text(budget, 2176010.0) == "2176010"  # 2.176e+06 would read as meeting it
    assert held_text(parse_constraint("latency_ms<=5"), 4.23456) == "4.235"  # 4 digits where they tell
    assert held_text(parse_constraint("latency_ms<=1"), 1.00004) == "1.00004"
    skipped = TrialRecord(
        0, "skipped", {"w": 1}, {"params": 2176010.0}, {budget.text: 2176010.0}, False, None, 0, None, 0
    )
    _echo_trial(skipped, [budget])
    assert capsys.readouterr().out == "trial 0: skipped, predicted to break a budget (params<=2176009 -> 2176010)\n"


def _as_an_older_hwprof_wrote_it(journal, constraints):
    """The study's settings as an older hwprof recorded them: budgets rounded by `:g`, no budgets_exact."""
    study = optuna.load_study(
        study_name="budgets",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))),
    )
    settings = {key: value for key, value in study.user_attrs["settings"].items() if key != "budgets_exact"}
    study.set_user_attr("settings", {**settings, "constraints": constraints})


def test_a_study_whose_older_hwprof_rounded_its_budget_resumes_with_the_command_that_ran_it(tmp_path):
    """Its trials were held against 2176009, written params<=2.17601e+06: reading that as 2176010 refused the
    very command that had run the study."""
    journal = tmp_path / "study.journal"
    _search(journal, "2176009", 1)
    _as_an_older_hwprof_wrote_it(journal, ["latency_ms<=5", "params<=2.17601e+06"])
    assert len(_search(journal, "2176009", 2).finished) == 2


def test_a_rounded_text_of_this_hwprof_is_exact_and_refuses_a_budget_that_rounds_to_it(tmp_path):
    journal = tmp_path / "study.journal"
    _search(journal, "2176010", 1)  # written params<=2.17601e+06, which reads back as 2176010 exactly
    with pytest.raises(HwprofError, match="other constraints"):
        _search(journal, "2176011", 2)


def test_a_budget_given_as_an_int_in_python_has_its_text():
    """int has no is_integer() before Python 3.12: a Constraint built in Python with an int budget raised."""
    from hwprof.search.constraints import Constraint
    from hwprof.search.report import held_text

    assert Constraint("params", "<=", 2176009).text == "params<=2176009"
    assert held_text(parse_constraint("params<=2176009"), 2176010) == "2176010"


def test_an_older_study_with_a_rounded_budget_still_has_its_space_checked(tmp_path):
    """The rounded budget was matched after the check of settings older studies lack, so a study of another space
    resumed: its trials would have come from two spaces."""
    journal = tmp_path / "study.journal"
    _search(journal, "2176009", 1)
    _as_an_older_hwprof_wrote_it(journal, ["latency_ms<=5", "params<=2.17601e+06"])
    study = optuna.load_study(
        study_name="budgets",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))),
    )
    settings = {key: value for key, value in study.user_attrs["settings"].items() if key != "space_fingerprint"}
    study.set_user_attr("settings", settings)
    wider = {
        **TOY_SPACE,
        "objective": None,
        "params": {**TOY_SPACE["params"], "width": {"low": 2, "high": 40, "step": 2}},
    }
    options = SearchOptions(
        trials=2,
        constraints=parse_constraints(["latency_ms<=5", "params<=2176009"]),
        seed=1,
        storage=str(journal),
        study_name="budgets",
    )
    with pytest.raises(HwprofError, match="has changed since study"):
        run_search(space_from_dict(wider), ToyPredictor(), score_toy, "toy_objective", options)
    assert len(_search(journal, "2176009", 2).finished) == 2  # its own space resumes, settings recorded
