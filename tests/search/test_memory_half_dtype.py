"""A search space of bfloat16 or float16 models is searched in that dtype: search has no --dtype, so each
candidate is predicted, and its memory counted, at its weights' dtype, and a space it cannot run is refused
without naming an option search lacks."""

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.errors import HwprofError
from hwprof.predictor.records import network_layers
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search

FACTORY = """
import torch
from fakes.search_doubles import ToyNet

def build(width, head):
    return ToyNet(width, head).to(torch.{dtype})
"""


class TracingPredictor(ToyPredictor):
    """The toy costs, after the layer trace hwprof's predictor makes, which refuses a module in another dtype
    than the one it is asked to predict at."""

    def __init__(self):
        super().__init__()
        self.how = []

    def predict(self, spec, batch_size=1, input_shape=None, confidence=0.9, **how):
        self.how.append(how)
        network_layers(spec, batch_size, input_shape, **how)
        return super().predict(spec, batch_size, input_shape, confidence)


def half_space(tmp_path, dtype):
    factory = tmp_path / f"{dtype}_family.py"
    factory.write_text(FACTORY.format(dtype=dtype))
    return space_from_dict({**TOY_SPACE, "name": f"toy_{dtype}", "factory": f"{factory}:build"})


def search(space, predictor, budgets):
    options = SearchOptions(trials=3, constraints=parse_constraints(budgets), seed=1)
    return run_search(space, predictor, space.objective, space.objective_ref, options)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_half_precision_space_is_predicted_and_counted_in_its_dtype(tmp_path, dtype):
    predictor = TracingPredictor()
    result = search(half_space(tmp_path, dtype), predictor, ["latency_ms<=100", "memory_mb<=1"])
    assert {how.get("dtype") for how in predictor.how} == {dtype}
    for record in result.records:
        width = record.params["width"]
        # nn.Linear(4, width) at 2 bytes an element: its weight and bias, and its input and output at batch 1
        assert record.metrics["memory_mb"] == pytest.approx((5 * width + 4 + width) * 2 / 1e6)


def test_a_float32_space_is_predicted_as_before(tmp_path):
    predictor = TracingPredictor()
    search(space_from_dict(TOY_SPACE), predictor, ["latency_ms<=100"])
    assert predictor.how and all(how == {} for how in predictor.how)  # no dtype: a user's predictor may take none


def test_a_space_in_a_dtype_search_cannot_run_names_no_missing_option(tmp_path):
    with pytest.raises(HwprofError) as refused:
        search(half_space(tmp_path, "float64"), TracingPredictor(), ["latency_ms<=100"])
    said = str(refused.value)
    assert "float64" in said and "--dtype" not in said and "model.float()" in said


def test_verify_measures_a_half_precision_candidate_in_its_dtype(tmp_path):
    import pandas as pd

    from hwprof.search.verify import final_candidates, verify_candidates

    space = half_space(tmp_path, "bfloat16")
    result = search(space, TracingPredictor(), ["latency_ms<=100"])
    asked = []

    def measure(specs, batch_sizes=(1,), **settings):
        asked.append(settings.get("dtype"))
        return pd.DataFrame([{"model": s.name, "kind": "network", "latency_ms": 1.0} for s in specs])

    verify_candidates(space, result, final_candidates(result, 1), measure=measure)
    assert asked == ["bfloat16"]
