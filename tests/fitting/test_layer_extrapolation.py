"""Beyond the largest layer trained on, a layer model's power law grows at most linearly in work: noisy layers
on a loaded machine fitted latency ~ bytes^2, which predicted a layernorm of 8x the largest measured size 64x
slower than that one, and a 7B model at hours per forward."""

import numpy as np

from hwprof.fitting.layers import fit_base, fit_op_model
from hwprof.predictor.layer_model import LayerModel, PhysicalBase, StackedLayerModels

VARIABLES = ["flops", "bytes_total"]


def _quadratic_layers(n=24, seed=0):
    """Layers whose latency grows as bytes^2 over bytes 1e3..1e4 (z = log1p(bytes))."""
    rng = np.random.default_rng(seed)
    size = np.geomspace(1e3, 1e4, n)
    z = np.column_stack([np.zeros(n), np.log1p(size)])
    y = np.log(1e-8 * size**2) + rng.normal(0, 0.02, n)
    return z, y


def test_a_power_law_steeper_than_linear_goes_on_linearly_beyond_its_training_sizes():
    z, y = _quadratic_layers()
    for form in ("power", "launch_power"):
        base = fit_base(z, y, np.ones(len(y)), (form, [1]))
        assert base.coef[1] > 1.8 and base.largest == {1: z[:, 1].max()}  # the slope it fits, in range
        edge, far = base.predict(np.array([[0.0, np.log1p(1e4)], [0.0, np.log1p(1e6)]]))
        assert np.exp(far - edge) <= 100 * 1.01  # 100x the bytes: at most 100x the time, where bytes^2 gave 1e4


def test_the_fitted_op_model_and_its_stacked_form_agree_beyond_the_range():
    z, y = _quadratic_layers()
    model, _ = fit_op_model(z, y, np.array(["a", "b", "c"] * 8), VARIABLES, [1], family="polynomial")
    beyond = np.array([[0.0, np.log1p(1e4)], [0.0, np.log1p(1e5)], [0.0, np.log1p(1e7)]])
    single = model.predict_log(beyond)
    assert np.all(np.diff(single) <= np.log(np.array([10, 100])) + 0.05)
    stacked = StackedLayerModels([model], len(VARIABLES)).predict_log(beyond, np.zeros(3, dtype=np.intp))
    np.testing.assert_allclose(stacked, single)


def test_a_file_written_before_largest_existed_takes_its_ops_training_range():
    base = PhysicalBase("power", -10.0, {1: 2.0}, largest={1: 9.0})
    model = LayerModel("polynomial", 0.0, {}, {}, {}, (0.0, 0.0), base, coverage={1: (5.0, 9.0)})
    doc = model.to_json(VARIABLES)
    assert doc["base"]["largest"] == [9.0]
    del doc["base"]["largest"]
    old = LayerModel.from_json(doc, VARIABLES)
    assert old.base.largest == {1: 9.0}
    z = np.array([[0.0, 9.0], [0.0, 12.0]])
    np.testing.assert_allclose(np.diff(old.predict_log(z)), [3.0])  # slope 1 past 9, not 2
