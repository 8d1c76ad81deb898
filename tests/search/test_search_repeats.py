"""A configuration drawn again is not trained again: the repeat takes the earlier trial's score, and the front and
--verify list each configuration once."""

import json

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy, search_result
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import FAILURES_IN_A_ROW, SearchOptions, TrialRecord, run_search
from hwprof.search.verify import final_candidates


def _key(params):
    return json.dumps(params, sort_keys=True)


def test_a_repeated_configuration_takes_the_earlier_score_without_training():
    trainings = []

    def counting(model, params):
        trainings.append(_key(params))
        return score_toy(model, params)

    # 4 configurations, 10 trials: the sampler must draw some again
    space = space_from_dict({**TOY_SPACE, "params": {"width": [2, 4], "head": ["narrow", "wide"]}, "objective": None})
    options = SearchOptions(trials=10, constraints=parse_constraints(["latency_ms<=5"]), seed=1)
    result = run_search(space, ToyPredictor(), counting, "counting", options)
    assert len(result.finished) == 10
    assert len(trainings) == len(set(trainings)) <= 4  # each configuration trained once at most
    trained = {r.number: r for r in result.records if r.state == "trained"}
    repeats = [r for r in result.records if r.state == "repeated"]
    assert repeats and result.repeated == len(repeats)
    for repeat in repeats:
        earlier = trained[repeat.repeats]
        assert earlier.number < repeat.number and earlier.params == repeat.params and earlier.score == repeat.score
        assert repeat.train_s is None
    front = result.pareto_front()
    assert len({_key(r.params) for r in front}) == len(front) and all(r.state == "trained" for r in front)
    summary = result.to_dict()
    assert summary["trainings"] == len(trainings) and summary["repeated_trials"] == len(repeats)
    assert {t["repeats"] for t in summary["trials"] if t["state"] == "repeated"} <= set(trained)


def _trained(number, score, width, latency_ms):
    checked = {"latency_ms<=5": latency_ms}
    return TrialRecord(number, "trained", {"w": width}, {"latency_ms": latency_ms}, checked, True, score, 0, 0, 0)


def test_a_configuration_trained_twice_by_an_older_study_is_listed_and_verified_once():
    # trials 0 and 2 are one network, trained twice (to one score) before repeats were told apart
    result = search_result([_trained(0, 8.0, 64, 1.0), _trained(1, 9.0, 128, 2.0), _trained(2, 8.0, 64, 1.0)])
    assert [r.number for r in result.pareto_front()] == [0, 1]
    assert [r.number for r in final_candidates(result, 4)] == [1, 0]
    assert result.best.number == 1


def test_repeats_between_failures_do_not_hide_an_objective_that_keeps_failing():
    calls = []

    def fails_after_three(model, params):
        calls.append(params)
        if len(calls) > 3:
            raise RuntimeError("disk full")
        return score_toy(model, params)

    space = space_from_dict({**TOY_SPACE, "objective": None})
    options = SearchOptions(trials=40, constraints=parse_constraints(["latency_ms<=5"]), seed=1)
    result = run_search(space, ToyPredictor(), fails_after_three, "fails_after_three", options)
    assert result.stopped_after_failures == FAILURES_IN_A_ROW and len(result.finished) < 40
    assert result.failed == FAILURES_IN_A_ROW  # one run of failures, however many repeats came between them
