"""Budgets no candidate can meet are refused before any trial, and the end advice follows the broken budget."""

import pytest
import yaml
from click.testing import CliRunner

import hwprof.cli.search
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.search.constraints import check_satisfiable, parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


@pytest.mark.parametrize(
    "texts",
    [
        ["latency_ms<=1", "latency_ms>=5"],
        ["params>=100", "params<=10"],
        ["latency_ms<2", "latency_ms>=2"],
        ["latency_ms<=2", "latency_ms>2"],
        ["latency_ms<2", "latency_ms>2"],
    ],
)
def test_an_upper_limit_below_a_lower_limit_is_one_sentence(texts):
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=4, constraints=parse_constraints(texts), seed=1)
    with pytest.raises(HwprofError, match="contradict each other: no .* meets both"):
        run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)


def test_limits_that_meet_at_one_value_are_accepted():
    constraints = parse_constraints(["latency_ms<=2", "latency_ms>=2", "params<=10", "params>=5"])
    check_satisfiable(constraints)
    assert len(constraints) == 4


def test_the_command_refuses_contradicting_budgets_before_any_trial(tmp_path, monkeypatch):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    args = ["search", str(space), "--constraint", "latency_ms<=1", "--constraint", "latency_ms>=5"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "'latency_ms<=1' and 'latency_ms>=5' contradict each other" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("budget", "advice"), [("latency_ms<=0.1", "smaller"), ("params>=1e9", "larger")])
def test_the_advice_when_nothing_meets_the_budgets_follows_the_broken_limit(budget, advice):
    from hwprof.search.report import summary_lines

    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=4, constraints=parse_constraints([budget]), seed=1)
    result = run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)
    assert summary_lines(result)[-1].endswith(f"loosen a budget or search {advice} models")
