"""Search logic on a toy family with a known optimum: predict first, never train what breaks a budget."""

import math

import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import FAILURES_IN_A_ROW, SearchOptions, SearchStopped, run_search


def toy_search(constraints, trials=40, **options):
    space = space_from_dict(TOY_SPACE)
    settings = SearchOptions(trials=trials, constraints=parse_constraints(constraints), seed=1, **options)
    return run_search(space, ToyPredictor(), space.objective, space.objective_ref, settings)


def test_finds_the_known_optimum_and_never_trains_an_infeasible_configuration():
    result = toy_search(["latency_ms<=1"])
    assert result.best.params == {"width": 10, "head": "wide"}
    assert result.best.score == 10.5
    assert result.wasted_trainings == 0
    assert result.skipped_trainings > 0
    assert all(r.metrics["latency_ms"] <= 1 + 1e-9 for r in result.records if r.trained)
    assert len(result.finished) == 40


def test_confidence_holds_the_upper_bound_of_the_interval_to_the_budget():
    # width 10 predicts exactly 1.0 ms but its 90% upper bound is 1.1 ms: width 8 is the best that surely fits
    result = toy_search(["latency_ms<=1"], confidence=0.9)
    assert result.best.params == {"width": 8, "head": "wide"}
    assert result.best.checked["latency_ms<=1"] == pytest.approx(0.88)


def test_lower_limits_use_the_lower_bound():
    result = toy_search(["energy_mj>=4", "latency_ms<=1.6"], confidence=0.9)
    # energy 0.5*w*0.9 >= 4 -> w >= 8.9; latency 0.1*w*1.1 <= 1.6 -> w <= 14.5
    trained_widths = {r.params["width"] for r in result.records if r.trained}
    assert trained_widths and trained_widths <= {10, 12, 14}
    assert result.best.params["width"] == 14


def test_constraint_unaware_baseline_trains_everything_and_counts_the_waste():
    result = toy_search(["latency_ms<=1"], constraint_aware=False)
    assert result.skipped_trainings == 0
    assert all(r.state in ("trained", "repeated") for r in result.finished)  # a repeat takes its earlier score
    assert result.wasted_trainings == sum(r.metrics["latency_ms"] > 1 for r in result.finished if r.trained) > 0
    assert result.best.feasible and result.best.metrics["latency_ms"] <= 1 + 1e-9


def test_analytic_budget_on_parameters():
    # nn.Linear(4, w) holds 5*w parameters
    result = toy_search(["params<=60"])
    assert result.best.params["width"] == 12
    assert all(r.metrics["params"] <= 60 for r in result.records if r.trained)


def test_infeasible_only_space_reports_no_best_and_trains_nothing():
    result = toy_search(["latency_ms<=0.01"], trials=6)
    assert result.best is None
    assert result.skipped_trainings == 6
    assert result.pareto_front() == []
    summary = result.to_dict()
    assert summary["best"] is None and summary["trainings"] == 0


def test_nsga2_pareto_front_trades_score_for_latency():
    result = toy_search(["latency_ms<=1.2"], trials=30, sampler="nsga2")
    front = result.pareto_front()
    assert front
    latencies = [r.metrics["latency_ms"] for r in front]
    scores = [r.score for r in front]
    assert latencies == sorted(latencies)
    assert scores == sorted(scores)  # more latency buys more score, else the point would be dominated
    assert all(r.feasible for r in front)
    assert result.pareto_metrics == ["latency_ms", "energy_mj"]


def test_constraint_on_a_metric_the_predictor_lacks_is_a_clear_error():
    with pytest.raises(HwprofError, match="gives no power_w") as refused:
        toy_search(["power_w<=3"], trials=2)
    # what budgets can be held on, counted ones included, not the search's internal columns
    assert "(budgets can be held on latency_ms, energy_mj, params, flops, memory_mb)" in str(refused.value)


@pytest.mark.parametrize("bad", [{"trials": 0}, {"confidence": 1.5}, {"sampler": "cmaes"}, {"batch_size": 0}])
def test_bad_options_are_clear_errors(bad):
    with pytest.raises(HwprofError):
        toy_search(["latency_ms<=1"], **{"trials": 2, **bad})


def test_objective_failure_fails_its_trial_in_one_line():
    space = space_from_dict({**TOY_SPACE, "objective": None})

    def broken(model, params):
        raise RuntimeError("out of data")

    options = SearchOptions(trials=2, constraints=parse_constraints(["latency_ms<=5"]))
    result = run_search(space, ToyPredictor(), broken, "broken", options)
    failed = [("failed", "RuntimeError: out of data")] * FAILURES_IN_A_ROW  # not counted: the search stops
    assert [(r.state, r.error) for r in result.records] == failed


def test_objective_returning_no_number_is_one_sentence():
    space = space_from_dict({**TOY_SPACE, "objective": None})
    options = SearchOptions(trials=2, constraints=parse_constraints(["latency_ms<=5"]))
    with pytest.raises(SearchStopped) as stopped:
        run_search(space, ToyPredictor(), lambda model, params: "high", "odd", options)
    assert isinstance(stopped.value.error, HwprofError)
    assert str(stopped.value.error) == "objective odd returned 'high': it must return one number"


def test_budgets_on_counted_work_and_memory_use_the_layer_extraction():
    # nn.Linear(4, w): 4*w multiply-accumulates; weights (4*w + w) * 4 bytes
    result = toy_search(["flops<=40", "memory_mb<=1"])
    assert result.best.params["width"] == 10
    assert result.best.metrics["flops"] == 40
    assert 0 < result.best.metrics["memory_mb"] < 0.001


def test_the_summary_counts_candidates_outside_the_predictors_training_data():
    from fakes.search_doubles import OUTSIDE_WIDTH
    from hwprof.search.report import summary_lines

    result = toy_search(["latency_ms<=1"], trials=20)
    outside = [r for r in result.records if r.params["width"] > OUTSIDE_WIDTH]
    assert all(r.metrics["outside_training_data"] == 1.0 for r in outside)
    line = next(line for line in summary_lines(result) if "outside the predictor's training data" in line)
    assert line.startswith(f"{len(outside)} of {len(result.records)} candidates")
    assert "widened" not in line  # without --confidence no interval was used, widened or not
    with_confidence = toy_search(["latency_ms<=1"], trials=20, confidence=0.9)
    assert any("widened to it only where narrower" in line for line in summary_lines(with_confidence))


class UncalibratedPredictor(ToyPredictor):
    """A predictor fitted without cross-validation: its intervals are unbounded."""

    doc = {"cv": {"scheme": "none", "reason": "only 1 network(s): too few to cross-validate"}}

    def predict(self, *args, **kwargs):
        prediction = super().predict(*args, **kwargs)
        prediction.interval = {metric: (0.0, math.inf) for metric in prediction.total}
        return prediction


def test_confidence_with_a_predictor_without_intervals_is_refused_before_any_trial():
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=2, constraints=parse_constraints(["latency_ms<=1"]), confidence=0.9)
    trainings = []
    with pytest.raises(HwprofError) as refused:
        run_search(space, UncalibratedPredictor(), lambda model, params: trainings.append(params) or 1.0, "o", options)
    assert "no bounded latency_ms interval at 90% confidence, because its networks could not be cross-validated " in (
        str(refused.value)
    )
    assert "drop confidence, or measure more networks, of at least 3 families" in str(refused.value)
    assert trainings == []
    fitted_with_no_cv = UncalibratedPredictor()
    fitted_with_no_cv.doc = {}  # its document records no cross-validation
    with pytest.raises(HwprofError, match="because it was fitted with --no-cv: drop confidence, or refit without"):
        run_search(space, fitted_with_no_cv, lambda model, params: 1.0, "o", options)
    without_confidence = SearchOptions(trials=2, constraints=parse_constraints(["latency_ms<=1"]))
    assert len(run_search(space, UncalibratedPredictor(), space.objective, "o", without_confidence).finished) == 2
