"""A longer seeded TPE study begins with the trials a shorter one of the same seed drew: its random start-up
count was --trials // 5, so --trials 5 and --trials 15 parted from the third trial on."""

from fakes.search_doubles import TOY_SPACE, ToyNet, ToyPredictor
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


def build_with_lr(width, head, lr):
    return ToyNet(width, head)


SPACE = {
    **TOY_SPACE,
    "factory": build_with_lr,
    "params": {**TOY_SPACE["params"], "lr": {"low": 1e-4, "high": 0.1, "log": True}},
}


def drawn(trials: int) -> list[dict]:
    options = SearchOptions(trials=trials, constraints=parse_constraints(["latency_ms<=1"]), seed=3)
    space = space_from_dict(SPACE)
    return [r.params for r in run_search(space, ToyPredictor(), space.objective, "toy", options).records]


def test_a_longer_seeded_study_extends_a_shorter_one():
    short = drawn(8)  # past the random start-up, into TPE's own draws
    assert drawn(15)[:8] == short and drawn(60)[:8] == short
