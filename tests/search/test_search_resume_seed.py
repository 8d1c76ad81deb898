"""A resumed seeded study draws new configurations, not the ones its first trials drew."""

import pytest

from fakes.search_doubles import TOY_SPACE, ToyNet, ToyPredictor
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


def build_with_lr(width, head, lr):
    return ToyNet(width, head)


SPACE = {**TOY_SPACE, "factory": build_with_lr, "params": {**TOY_SPACE["params"], "lr": {"low": 1e-4, "high": 0.1}}}


def search(storage, trials, sampler, objective=lambda model, params: model.width):
    options = SearchOptions(
        trials=trials,
        constraints=parse_constraints(["latency_ms<=1"]),
        seed=3,
        sampler=sampler,
        storage=None if storage is None else str(storage),
        study_name="s",
    )
    space = space_from_dict(SPACE)
    return run_search(space, ToyPredictor(), objective, "toy", options)


@pytest.mark.parametrize("sampler", ["tpe", "nsga2"])
def test_a_resumed_seeded_study_goes_on_to_new_configurations(tmp_path, sampler):
    """Stopped within TPE's random start-up trials, the resumed run drew the same start-up sequence again."""
    journal = tmp_path / "study.journal"

    def stopped_at_the_second(model, params, calls=[]):
        calls.append(params)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return model.width

    with pytest.raises(KeyboardInterrupt):
        search(journal, 40, sampler, stopped_at_the_second)
    first = [r.params["lr"] for r in search(journal, 1, sampler).records]  # reads, runs nothing
    resumed = [r.params["lr"] for r in search(journal, 40, sampler).records]
    assert resumed[: len(first)] == first
    # TPE's 5 start-up trials and NSGA-II's first generation (10) are drawn at random: none repeats an earlier one
    assert not set(resumed[len(first) : 5]) & set(first)


def test_a_fresh_seeded_study_is_reproducible():
    assert [r.params for r in search(None, 4, "tpe").records] == [r.params for r in search(None, 4, "tpe").records]
