"""The predictor file: plain JSON, same predictions after a round trip, single and batched agree."""

import json

import numpy as np
import pytest

from fakes.synthetic import DEVICE, fitted_predictor_path, synthetic_frame
from hwprof.errors import HwprofError
from hwprof.predictor.predictor import Predictor, load_predictor


@pytest.fixture(scope="module")
def predictor_file(tmp_path_factory):
    path, _ = fitted_predictor_path(
        tmp_path_factory.mktemp("fit"), family="auto", layer_noise=0.05, network_noise=0.05, with_power=True
    )
    return path


@pytest.mark.slow
def test_file_is_plain_json_with_schema_features_and_provenance(predictor_file):
    doc = json.loads(open(predictor_file).read())
    assert doc["format"] == "hwprof-predictor" and doc["format_version"] == 2
    assert doc["device_name"] == DEVICE
    assert "flops" in doc["features"]["layer_variables"]
    assert doc["training"]["rows"]["networks"] == 30
    assert doc["cv"]["scheme"] == "leave-one-family-out"
    assert set(doc["network_models"]) == {"latency_ms", "power_w", "energy_mj"}
    conv = doc["layer_models"]["latency_ms"]["ops"]["conv2d"]
    assert conv["kind"] in ("polynomial", "trees", "blend")
    assert all(isinstance(c, float) for c in conv["linear"]["coef"])


def test_round_trip_gives_identical_predictions(predictor_file, tmp_path):
    first = load_predictor(predictor_file)
    copy = tmp_path / "copy.json"
    first.save(copy)
    second = load_predictor(copy)
    for model in ("mlp", "mlp_large"):
        a = first.predict(model, batch_size=2)
        b = second.predict(model, batch_size=2)
        assert a.total == b.total
        assert a.interval == b.interval
        assert a.layers.equals(b.layers)


def test_tree_models_survive_the_round_trip(tmp_path):
    path, dataset = fitted_predictor_path(tmp_path, family="trees", cv=False)
    predictor = load_predictor(path)
    conv = predictor.layer_sets["latency_ms"].ops["conv2d"]
    assert conv.kind == "trees" and conv.trees.leaf.shape[1] == 2**conv.trees.depth
    predictor.save(tmp_path / "again.json")
    again = load_predictor(tmp_path / "again.json")
    import pandas as pd

    from hwprof.fitting.data import training_data

    data = training_data(pd.read_parquet(dataset), DEVICE)
    a = predictor.predict_features(predictor.features_from_batch(data.networks), intervals=False)
    b = again.predict_features(again.features_from_batch(data.networks), intervals=False)
    assert np.array_equal(a["latency_ms"], b["latency_ms"])


def test_prediction_carries_totals_intervals_and_layers(predictor_file):
    prediction = load_predictor(predictor_file).predict("mlp", batch_size=4, confidence=0.8)
    assert set(prediction.total) >= {"latency_ms", "power_w", "energy_mj", "energy_mj_layer_sum"}
    low, high = prediction.interval["latency_ms"]
    assert low < prediction.total["latency_ms"] < high
    assert len(prediction.layers) == 8  # mlp: flatten, 3 linear, 2 relu, 2 dropout
    assert {"latency_ms", "latency_ms_low", "latency_ms_high", "model"} <= set(prediction.layers.columns)
    # ops the synthetic data never had are covered by the shared fallback, and said so
    assert set(prediction.layers.loc[prediction.layers["op"] == "dropout", "model"]) == {"fallback"}
    assert any("dropout" in w for w in prediction.warnings)


def test_wider_confidence_gives_wider_interval(predictor_file):
    predictor = load_predictor(predictor_file)
    narrow = predictor.predict("mlp", confidence=0.5).interval["latency_ms"]
    wide = predictor.predict("mlp", confidence=0.95).interval["latency_ms"]
    assert wide[0] <= narrow[0] and wide[1] >= narrow[1]


def test_batched_api_matches_single_predictions(predictor_file):
    predictor = load_predictor(predictor_file)
    models = ["mlp", "mlp_large", "mlp"]
    sizes = [1, 1, 8]
    table = predictor.predict_many(models, sizes)
    for row, model, size in zip(table.itertuples(), models, sizes):
        single = predictor.predict(model, batch_size=size)
        assert row.latency_ms == pytest.approx(single.total["latency_ms"], rel=1e-12)
        assert row.latency_ms_high == pytest.approx(single.interval["latency_ms"][1], rel=1e-12)
    # the same layer configuration shared by networks is encoded once
    features = predictor.features(models, sizes)
    assert features.batch.membership.shape[0] == 3
    assert len(features.batch.layers) < sum(
        len(predictor.predict(m, batch_size=s).layers) for m, s in zip(models, sizes)
    )


def test_loading_refuses_files_that_are_not_predictors(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": 1}))
    with pytest.raises(HwprofError, match="not an hwprof predictor"):
        load_predictor(bogus)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(HwprofError, match="not valid JSON"):
        load_predictor(broken)
    with pytest.raises(HwprofError, match="does not exist"):
        load_predictor(tmp_path / "missing.json")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "hwprof-predictor", "format_version": 99}))
    with pytest.raises(HwprofError, match="format version 99"):
        load_predictor(newer)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_damaged_numbers_are_refused_not_printed(predictor_file, tmp_path):
    doc = json.loads(open(predictor_file).read())
    nan_file = tmp_path / "nan.json"
    doc["network_models"]["latency_ms"]["coef"][0] = float("nan")
    nan_file.write_text(json.dumps(doc))  # json.dumps writes NaN, which hwprof never does
    with pytest.raises(HwprofError, match="holds NaN, which hwprof never writes"):
        load_predictor(nan_file)

    huge = tmp_path / "huge.json"
    doc["network_models"]["latency_ms"]["coef"][0] = 1e308
    huge.write_text(json.dumps(doc))
    with pytest.raises(HwprofError, match="predicts a latency_ms of (inf|nan) for mlp: its coefficients are damaged"):
        load_predictor(huge).predict("mlp")
    with pytest.raises(HwprofError, match="refit the predictor"):
        load_predictor(huge).predict_many(["mlp"])
    for key, value in (("layer_models", None), ("network_models", []), ("features", {})):
        damaged = tmp_path / f"{key}.json"
        damaged.write_text(json.dumps({**json.loads(open(predictor_file).read()), key: value}))
        with pytest.raises(HwprofError, match="is a damaged predictor file"):
            load_predictor(damaged)
    without_layers = {k: v for k, v in json.loads(open(predictor_file).read()).items() if k != "layer_models"}
    (tmp_path / "without_layers.json").write_text(json.dumps(without_layers))
    with pytest.raises(HwprofError, match=r"is a damaged predictor file \(its layer_models is missing"):
        load_predictor(tmp_path / "without_layers.json")
    parquet = tmp_path / "data.parquet"
    parquet.write_bytes(b"PAR1\x00\xff\xfe binary")
    with pytest.raises(HwprofError, match=r"is a Parquet file \(a dataset\?\), not a predictor file"):
        load_predictor(parquet)


def test_fresh_synthetic_networks_are_predicted_within_noise(predictor_file):
    from hwprof.fitting.data import training_data

    predictor = load_predictor(predictor_file)
    fresh = training_data(synthetic_frame(n_networks=10, seed=123), DEVICE)
    arrays = predictor.predict_features(predictor.features_from_batch(fresh.networks))
    error = np.abs(arrays["latency_ms"] / fresh.targets["latency_ms"] - 1)
    assert np.median(error) < 0.1


def _count_layer_model_passes(predictor, monkeypatch) -> list[int]:
    """Wrap each layer target's stacked models so every evaluation records how many layers it ran on."""
    calls: list[int] = []
    for models in predictor.layer_sets.values():
        evaluate = models.stacked.predict_log
        monkeypatch.setattr(
            models.stacked,
            "predict_log",
            lambda z, index, evaluate=evaluate: calls.append(len(z)) or evaluate(z, index),
        )
    return calls


def test_layer_predictions_are_made_once_per_configuration_and_reused(predictor_file, monkeypatch):
    from hwprof.predictor.features import encode_layers
    from hwprof.predictor.records import network_layers

    small = network_layers("mlp", 1, None).records
    large = network_layers("mlp_large", 1, None).records
    seen = {(r.op, r.config) for r in small}
    new = {(r.op, r.config) for r in large} - seen
    assert 0 < len(new) < len({(r.op, r.config) for r in large})  # mlp_large shares some configurations with mlp

    predictor = load_predictor(predictor_file)
    targets = len(predictor.layer_sets)
    calls = _count_layer_model_passes(predictor, monkeypatch)
    first = predictor.features_from_layers(["mlp"], [1], [small])
    assert calls == [len(seen)] * targets  # one vectorised pass per layer target over the new configurations
    cached = len(predictor._encoded)
    assert cached == len(seen)

    # the same configurations in another order (and repeated): no layer model runs, the cache does not grow
    calls.clear()
    shuffled = predictor.features_from_layers(["mlp shuffled"], [1], [small[::-1]])
    assert calls == [] and len(predictor._encoded) == cached
    a = predictor.predict_features(first, intervals=False)
    b = predictor.predict_features(shuffled, intervals=False)
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12)

    # a network with some new configurations: only those are evaluated
    calls.clear()
    both = predictor.features_from_layers(["mlp", "mlp_large"], [1, 1], [small, large])
    assert calls == [len(new)] * targets
    assert len(predictor._encoded) == cached + len(new)

    # cached per-layer predictions and the totals built from them equal evaluating the layer models directly
    monkeypatch.undo()
    z = encode_layers(both.batch.layers, predictor.variables)
    ops = [r.op for r in both.batch.layers]
    direct = {
        target: models.stacked.predict_log(z, models.model_index(ops))
        for target, models in predictor.layer_sets.items()
    }
    np.testing.assert_array_equal(both.z, z)
    for target, log_prediction in direct.items():
        np.testing.assert_allclose(both.layer_log[target], log_prediction, rtol=1e-12)
    latency, power = np.exp(direct["latency_ms"]), np.exp(direct["power_w"])
    membership = both.batch.membership
    layer_sums = membership @ (both.group_onehot * latency[:, None])
    arrays = predictor.predict_features(both, intervals=False)
    np.testing.assert_allclose(arrays["latency_ms_layer_sum"], layer_sums.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(arrays["energy_mj_layer_sum"], membership @ (latency * power), rtol=1e-12)
    total, _ = predictor.network_models["latency_ms"].latency_parts(layer_sums, both.batch.aggregates)
    np.testing.assert_allclose(arrays["latency_ms"], np.maximum(total, 1e-6), rtol=1e-12)
    fresh = load_predictor(predictor_file)
    expected = fresh.predict_features(
        fresh.features_from_layers(["mlp", "mlp_large"], [1, 1], [small, large]), intervals=False
    )
    assert arrays.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(arrays[key], expected[key], rtol=1e-12)


def test_a_full_encoding_cache_is_emptied_without_losing_configurations_in_use(predictor_file, monkeypatch):
    import hwprof.predictor.predictor
    from hwprof.predictor.records import network_layers

    small = network_layers("mlp", 1, None).records
    large = network_layers("mlp_large", 1, None).records
    predictor = load_predictor(predictor_file)
    predictor.features_from_layers(["mlp"], [1], [small])
    monkeypatch.setattr(hwprof.predictor.predictor, "ENCODING_CACHE_SIZE", len(predictor._encoded) + 1)
    # mlp_large adds several configurations, so the cache is emptied while some of its layers were cached
    features = predictor.features_from_layers(["mlp_large"], [1], [large])
    assert len(predictor._encoded) <= len(features.batch.layers)
    fresh = load_predictor(predictor_file)
    expected = fresh.predict_features(fresh.features_from_layers(["mlp_large"], [1], [large]))
    arrays = predictor.predict_features(features)
    for key in expected:
        np.testing.assert_allclose(arrays[key], expected[key], rtol=1e-12)


def test_a_single_network_is_predicted_as_in_a_batch(predictor_file, tmp_path):
    """One network takes a path on Python floats; it must give what the batched arrays give."""
    import random

    import pandas as pd

    from hwprof.fitting.fit import fit
    from hwprof.predictor.records import network_layers
    from hwprof.sample_models.nb201 import random_arch

    rng = random.Random(1)
    names = [f"nb201:{arch}" for arch in dict.fromkeys(random_arch(rng) for _ in range(8))] + ["mlp", "mlp_large"]
    table = tmp_path / "networks.csv"
    pd.DataFrame({"model": names, "batch_size": 1, "latency_ms": np.linspace(1.0, 3.0, len(names))}).to_csv(
        table, index=False
    )
    analytic = fit([table], cv=False)
    layered = load_predictor(predictor_file)
    lists = [network_layers(name, 1).records for name in names]
    for predictor in (layered, analytic):
        batched = predictor.predict_features(
            predictor.features_from_layers(names, [1] * len(names), lists), confidence=0.8
        )
        for i, (name, records) in enumerate(zip(names, lists)):
            single = predictor.predict_features(predictor.features_from_layers([name], [1], [records]), confidence=0.8)
            assert list(single) == list(batched)
            for key, values in batched.items():
                assert single[key].shape == (1,)
                np.testing.assert_allclose(single[key], values[i : i + 1], rtol=1e-12)


def test_an_op_without_a_model_of_its_own_is_costed_by_its_op_groups_model(predictor_file):
    import torch.nn as nn

    from fakes.synthetic import planted_log_latency
    from hwprof.predictor.features import LayerRecord, encode_layers
    from hwprof.predictor.records import network_layers

    predictor = load_predictor(predictor_file)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU6(), nn.Flatten(), nn.Linear(16 * 32 * 32, 10))
    prediction = predictor.predict(net, input_shape=(3, 32, 32))
    model_of = dict(zip(prediction.layers["op"], prediction.layers["model"]))
    assert model_of["relu6"] == "activation group"  # the synthetic data had relu, an activation, but no relu6
    assert model_of["flatten"] == "fallback"  # no op of its group was measured
    assert any(
        "relu6: no layer model of its own, predicted by the model of its op group (activation)" in w
        for w in prediction.warnings
    )
    # relu6 moves the bytes relu moves: the group model, which learnt relu's planted law, costs it so
    records = network_layers(net, 1, (3, 32, 32)).records
    relu6 = [r for r in records if r.op == "relu6"]
    truth = planted_log_latency(
        [LayerRecord("relu", r.config, r.flops, r.input_bytes, r.output_bytes, r.weight_bytes) for r in relu6]
    )
    models = predictor.layer_sets["latency_ms"]
    z = encode_layers(relu6, predictor.variables)
    by_group = models.stacked.predict_log(z, models.model_index(["relu6"]))
    by_fallback = models.stacked.predict_log(z, np.array([models.fallback_index]))
    assert abs(by_group[0] - truth[0]) < 0.15
    assert abs(by_group[0] - truth[0]) < abs(by_fallback[0] - truth[0])


def test_a_prediction_says_when_the_network_needed_a_real_forward_pass(predictor_file):
    import torch.nn as nn

    class ReadsValues(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(16, 16)

        def forward(self, x):
            x = self.linear(x)
            return x.relu() if x.sum() > 0 else x

    predictor = load_predictor(predictor_file)
    traced = predictor.predict("mlp")
    assert traced.traced_on == "meta"
    assert not any("real tensors" in w for w in traced.warnings)
    fallback = predictor.predict(ReadsValues(), input_shape=(16,))
    assert fallback.traced_on == "real"
    assert any("traced on real tensors" in w for w in fallback.warnings)
    table = predictor.predict_many(["mlp"], 1)
    assert list(table["traced_on"]) == ["meta"]


def test_saving_over_an_existing_file_needs_force(predictor_file, tmp_path):
    predictor = load_predictor(predictor_file)
    older = tmp_path / "older.json"
    older.write_text("{}")
    with pytest.raises(HwprofError, match=r"older.json already exists; pass force=True to replace it"):
        predictor.save(older)
    assert older.read_text() == "{}"
    predictor.save(older, force=True)
    assert load_predictor(older).doc == predictor.doc
    dataset = tmp_path / "data.parquet"  # a measurement is never replaced by a predictor, force or not
    dataset.write_bytes(b"PAR1 rows")
    with pytest.raises(HwprofError, match=r"data.parquet is a dataset, which a predictor \(JSON\) never replaces"):
        predictor.save(dataset, force=True)
    assert dataset.read_bytes() == b"PAR1 rows"


@pytest.mark.parametrize(
    "doc, message",
    [("pred.json", "made from a predictor document \\(a dict\\), not 'pred.json'"), ({}, "lacks its features")],
)
def test_a_predictor_made_of_something_not_a_document_says_to_load_the_file(doc, message):
    with pytest.raises(HwprofError, match=rf"{message}.*give the predictor document, or load a file with"):
        Predictor(doc)
