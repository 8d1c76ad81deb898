"""A candidate in a dtype or layout the predictor has no data in is outside its training data, whether or not its
distance to the training networks says so: a search on point predictions marks it, as it marks a far one."""

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import summary_lines
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


class UntrainedPredictor(ToyPredictor):
    """Every candidate near the training networks, and in float32, which the predictor has no data in."""

    def predict(self, *args, **kwargs):
        prediction = super().predict(*args, **kwargs)
        prediction.novelty = {"outside": False, "untrained_setting": "float32"}
        return prediction


def test_candidates_in_an_untrained_setting_are_marked_outside_the_training_data():
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=4, constraints=parse_constraints(["latency_ms<=5"]), seed=1)
    result = run_search(space, UntrainedPredictor(), space.objective, space.objective_ref, options)
    assert [record.metrics["outside_training_data"] for record in result.records] == [1.0] * 4
    lines = summary_lines(result)
    assert any(line.startswith("4 of 4 candidates lay outside the predictor's training data") for line in lines)
    assert lines[-1].endswith("(outside the predictor's training data: its costs were never validated)")
