"""A space whose first configuration the factory rejects is still searched: that configuration's trial fails, as
any trial's would, and only a space none of whose tried configurations builds is refused."""

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, build_toy, score_toy
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


def build_unless_narrowest(width: int, head: str):
    """Rejects the configuration of every parameter's first value, as a factory whose heads must divide its width
    rejects some."""
    if width == 2 and head == "narrow":
        raise ValueError("width 2 needs the wide head")
    return build_toy(width, head)


def never_builds(width: int, head: str):
    raise ValueError("no such model")


def _search(factory, seed=1):
    space = space_from_dict({**TOY_SPACE, "factory": factory, "objective": None})
    options = SearchOptions(trials=4, constraints=parse_constraints(["latency_ms<=1"]), seed=seed)
    return run_search(space, ToyPredictor(), score_toy, "toy_objective", options)


def test_a_factory_that_rejects_the_first_configuration_does_not_stop_the_search():
    result = _search(build_unless_narrowest)
    assert len(result.finished) == 4 and result.best is not None
    assert result.pareto_metrics == ["latency_ms", "energy_mj"]  # told by a configuration that built


def test_a_space_none_of_whose_tried_configurations_builds_is_refused_naming_the_first_failure():
    with pytest.raises(HwprofError) as refused:
        _search(never_builds)
    message = str(refused.value)
    assert "failed for {'width': 2, 'head': 'narrow'}: ValueError: no such model" in message
    assert "and so did the " in message and "no trial could build a model" in message
    with pytest.raises(HwprofError) as again:
        _search(never_builds)
    assert str(again.value) == message  # the same configurations are tried for one seed
