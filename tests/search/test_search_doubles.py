"""The search test doubles behave as the tests assume."""

from fakes.search_doubles import ToyNet, ToyPredictor


def test_toy_predictor_interval_brackets_the_prediction():
    prediction = ToyPredictor().predict(type("Spec", (), {"module": ToyNet(10, "wide")})())
    for metric, value in prediction.total.items():
        low, high = prediction.interval[metric]
        assert low < value < high
