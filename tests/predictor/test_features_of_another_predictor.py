"""Features hold per-layer predictions of the predictor that made them: another predictor refuses them."""

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.errors import HwprofError


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fit")
    return fitted_predictor_path(directory, cv=False)[0], fitted_predictor_path(directory, seed=6, cv=False)[0]


@pytest.mark.parametrize("method", ["predict_features", "novelty"])
def test_features_made_by_another_predictor_are_refused(paths, method):
    mine, other = (hwprof.load_predictor(path) for path in paths)
    features = other.features(["mlp", "mlp_large"], [1, 4])
    with pytest.raises(HwprofError, match=r"made by another predictor.*this predictor's features\(") as error:
        getattr(mine, method)(features)
    assert "\n" not in str(error.value)
    one = other.features(["mlp"])
    with pytest.raises(HwprofError, match="made by another predictor"):
        getattr(mine, method)(one)


def test_features_of_the_same_file_loaded_twice_are_taken(paths):
    first, again = (hwprof.load_predictor(paths[0]) for _ in range(2))
    features = first.features(["mlp", "mlp_large"], [1, 4])
    assert (
        again.predict_features(features)["latency_ms"].tolist()
        == first.predict_features(features)["latency_ms"].tolist()
    )
    assert again.novelty(features)["distance"].tolist() == first.novelty(features)["distance"].tolist()
