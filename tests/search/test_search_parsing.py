"""Budgets and search spaces from text: good ones parse, bad ones get one clear sentence."""

import textwrap

import pytest

from fakes.search_doubles import TOY_SPACE
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraint, parse_constraints
from hwprof.search.space import load_callable, load_space, space_from_dict


@pytest.mark.parametrize(
    "text, metric, operator, budget",
    [
        ("latency_ms<=5", "latency_ms", "<=", 5.0),
        (" energy_mj <= 2.5e1 ", "energy_mj", "<=", 25.0),
        ("power_w<3", "power_w", "<", 3.0),
        ("params>=1000", "params", ">=", 1000.0),
        ("memory_mb>0.5", "memory_mb", ">", 0.5),
    ],
)
def test_parses_good_constraints(text, metric, operator, budget):
    constraint = parse_constraint(text)
    assert (constraint.metric, constraint.operator, constraint.budget) == (metric, operator, budget)


@pytest.mark.parametrize(
    "text, message",
    [
        ("latency<=5", "unknown metric 'latency'"),
        ("latency_ms==5", "bad operator '=='"),
        ("latency_ms=<5", "bad operator '=<'"),
        ("latency_ms!=5", "bad operator '!='"),
        ("latency_ms<=five", "'five' .* is not a number"),
        ("latency_ms<=inf", "finite"),
        ("latency_ms", "write METRIC<=NUMBER"),
        ("", "write METRIC<=NUMBER"),
        ("<=5", "write METRIC<=NUMBER"),
    ],
)
def test_bad_constraints_get_a_clear_sentence(text, message):
    with pytest.raises(HwprofError, match=message):
        parse_constraint(text)


@pytest.mark.parametrize("text, holds", [("latency_ms<=-1", "never"), ("energy_mj>-0.5", "always")])
def test_a_negative_budget_is_refused(text, holds):
    with pytest.raises(HwprofError, match=f"{holds} holds, since .* is never negative"):
        parse_constraint(text)


def test_two_upper_limits_on_one_metric_are_refused():
    with pytest.raises(HwprofError, match="two upper limits on latency_ms"):
        parse_constraints(["latency_ms<=5", "latency_ms<3"])
    assert len(parse_constraints(["latency_ms<=5", "latency_ms>=1"])) == 2


@pytest.mark.parametrize("budget, value, violation", [(5, 4, -0.2), (5, 5, 0.0), (5, 6, 0.2), (0, 1, 1.0)])
def test_violation_is_relative_and_non_positive_when_the_budget_holds(budget, value, violation):
    assert parse_constraint(f"latency_ms<={budget}").violation(value) == pytest.approx(violation)


def test_strict_limit_met_with_equality_is_violated():
    assert parse_constraint("latency_ms<5").violation(5) > 0
    assert parse_constraint("params>10").violation(10) > 0


def test_yaml_space_with_every_parameter_kind(tmp_path):
    (tmp_path / "family.py").write_text(
        textwrap.dedent("""
        import torch.nn as nn

        def build(width, depth, lr, dropout, act, num_classes):
            return nn.Linear(4, width)
    """)
    )
    (tmp_path / "space.yaml").write_text(
        textwrap.dedent("""
        factory: family.py:build
        input_shape: [4]
        params:
          width: [8, 16]
          depth: {low: 1, high: 3}
          lr: {low: 0.001, high: 0.1, log: true}
          dropout: {low: 0.0, high: 0.5, step: 0.1}
          act: {choices: [relu, gelu]}
        fixed:
          num_classes: 10
    """)
    )
    space = load_space(str(tmp_path / "space.yaml"))
    kinds = {p.name: p.kind for p in space.params}
    assert kinds == {"width": "choice", "depth": "int", "lr": "float", "dropout": "float", "act": "choice"}
    assert space.name == "space" and space.input_shape == (4,)
    params = space.first_params()
    assert space.build(params).out_features == 8


def test_python_space_file(tmp_path):
    (tmp_path / "spaces.py").write_text(
        textwrap.dedent("""
        import torch.nn as nn

        def build(width):
            return nn.Linear(4, width)

        SMALL = {"factory": build, "input_shape": (4,), "params": {"width": [2, 3]}}
    """)
    )
    space = load_space(f"{tmp_path / 'spaces.py'}:SMALL")
    assert space.build({"width": 3}).out_features == 3
    with pytest.raises(HwprofError, match="defines no SPACE"):
        load_space(str(tmp_path / "spaces.py"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"params": {"w": {"low": 3, "high": 1}}}, "low 3 is above high 1"),
        ({"params": {"w": {"low": 0, "high": 1, "log": True}}}, "log range needs low > 0"),
        ({"params": {"w": {"min": 0, "max": 1}}}, "list of choices or a range"),
        ({"params": {"w": []}}, "empty list"),
        ({"params": {"w": [[1, 2]]}}, "choices must be numbers"),
        ({"params": {}}, "'params' must map"),
        ({"input_shape": [0, 8]}, "input_shape"),
        ({"factory": "nowhere_module:build"}, "cannot import factory module"),
        ({"factory": "fakes.search_doubles:no_such"}, "has no function named 'no_such'"),
        ({"factory": "build_toy"}, "module:function"),
        ({"epochs": 3}, "unknown key"),
        ({"fixed": {"width": 4}}, "both searched and fixed"),
    ],
)
def test_bad_spaces_get_a_clear_sentence(change, message):
    with pytest.raises(HwprofError, match=message):
        space_from_dict({**TOY_SPACE, **change})


def test_missing_or_unreadable_space_files(tmp_path):
    with pytest.raises(HwprofError, match="does not exist"):
        load_space(str(tmp_path / "missing.yaml"))
    (tmp_path / "broken.yaml").write_text("params: [unclosed\n")
    with pytest.raises(HwprofError, match="not valid YAML"):
        load_space(str(tmp_path / "broken.yaml"))
    (tmp_path / "colon.yaml").write_text("factory: f.py:build\ninput_shape: [16\nparams: {width: [8]}\n")
    with pytest.raises(HwprofError, match=r"not valid YAML at line 3, column 7: expected ',' or '\]'"):
        load_space(str(tmp_path / "colon.yaml"))
    (tmp_path / "space.txt").write_text("x")
    with pytest.raises(HwprofError, match=r"\.yaml, \.yml or \.py"):
        load_space(str(tmp_path / "space.txt"))


def test_factory_that_fails_is_reported_with_its_parameters():
    space = space_from_dict(TOY_SPACE)
    with pytest.raises(HwprofError, match="factory .* failed for {'width': -1"):
        space.build({"width": -1, "head": "wide"})


def test_load_callable_from_file_and_module(tmp_path):
    (tmp_path / "obj.py").write_text("def evaluate(model, params):\n    return 1.0\n")
    assert load_callable(f"{tmp_path / 'obj.py'}:evaluate", "objective")(None, {}) == 1.0
    assert callable(load_callable("fakes.search_doubles:score_toy", "objective"))
    with pytest.raises(HwprofError, match="objective file"):
        load_callable("missing.py:evaluate", "objective")
