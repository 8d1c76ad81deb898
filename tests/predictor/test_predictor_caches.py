"""A long-running service predicts many networks: what hwprof caches to predict faster is bounded by the
layers it holds, not by a count of networks, and one call frees it all."""

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.models import recall
from hwprof.predictor import nb201, records
from hwprof.predictor.predictor import _indicator_variables


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return hwprof.load_predictor(path)


def test_traced_networks_are_cached_up_to_a_number_of_layers_not_networks(predictor, monkeypatch):
    records.clear_cache()
    layers = len(records.network_layers("mlp_large", 1).records)
    monkeypatch.setattr(records, "CACHE_LAYERS", 3 * layers)
    for size in range(1, 7):
        predictor.predict("mlp_large", batch_size=size)
    held = [traced.records for traced in records._cache.values()]
    assert len(held) == 3  # the three most recent, where a cap of 4096 networks kept all six
    assert sum(map(len, held)) <= 3 * layers
    assert [key[1] for key in records._cache] == [4, 5, 6]


def test_a_network_larger_than_the_cache_is_still_kept_alone(predictor, monkeypatch):
    records.clear_cache()
    monkeypatch.setattr(records, "CACHE_LAYERS", 1)
    predictor.predict("mlp", batch_size=2)
    predictor.predict("mlp", batch_size=3)
    assert [key[1] for key in records._cache] == [3]


def test_clear_caches_forgets_traced_networks_encoded_layers_and_parsed_configurations(predictor):
    predictor.predict("mlp", batch_size=2)
    predictor.predict(
        "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    assert records._cache and predictor._encoded and nb201._pieces
    predictor.clear_caches()
    assert not records._cache and not predictor._encoded and not nb201._pieces
    assert _indicator_variables.cache_info().currsize == 0
    assert not recall._LEAVES and not recall._BLOCKS
    again = predictor.predict("mlp", batch_size=2)  # and predicts as before
    assert again.total["latency_ms"] > 0


def test_the_pieces_of_nas_bench_201_cells_are_kept_for_a_few_batch_sizes(predictor, monkeypatch):
    monkeypatch.setattr(nb201, "PIECES_SIZE", 2)
    records.clear_cache()
    for size in (1, 2, 3):
        predictor.predict(
            "nb201:|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
            batch_size=size,
        )
    assert [key[0] for key in nb201._pieces] == [2, 3]
