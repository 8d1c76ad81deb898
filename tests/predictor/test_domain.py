"""A prediction says when the network lies outside the training data, and widens its interval."""

import numpy as np
import pytest

from fakes.cells import CELLS, NEW_CELL, cell_frame
from fakes.synthetic import DEVICE, write
from hwprof.predictor.domain import Domain
from hwprof.predictor.features import AGGREGATE_KINDS, OP_GROUPS
from hwprof.predictor.predictor import load_predictor


@pytest.fixture(scope="module")
def nb201_only_predictor(tmp_path_factory):
    from hwprof.fitting.fit import fit

    directory = tmp_path_factory.mktemp("domain")
    dataset = write(cell_frame(CELLS, DEVICE), directory / "nb201.parquet")
    out = directory / "predictor.json"
    fit([dataset], out)
    return load_predictor(out)


def test_an_mlp_is_outside_an_nb201_only_predictor_and_says_so(nb201_only_predictor):
    predictor = nb201_only_predictor
    inside = predictor.predict(NEW_CELL)
    assert not inside.novelty["outside"]
    assert not any("outside the training data" in w for w in inside.warnings)
    for far in ("mlp", "resnet50"):
        prediction = predictor.predict(far)
        assert prediction.novelty["outside"]
        (note,) = [w for w in prediction.warnings if w.startswith("outside the training data")]
        assert "widened" in note
        low, high = prediction.interval["latency_ms"]
        assert high / low > inside.interval["latency_ms"][1] / inside.interval["latency_ms"][0]


def test_predict_many_reports_novelty_per_network(nb201_only_predictor):
    table = nb201_only_predictor.predict_many([NEW_CELL, "mlp"], 1)
    assert list(table["outside"]) == [False, True]
    assert table["distance"].iloc[1] > table["distance"].iloc[0]
    assert {"uncovered_share", "distance"} <= set(table.columns)


def test_the_predictor_file_keeps_the_domain(nb201_only_predictor, tmp_path):
    path = tmp_path / "again.json"
    nb201_only_predictor.save(path)
    again = load_predictor(path)
    a = nb201_only_predictor.predict_many(["mlp", NEW_CELL])
    b = again.predict_many(["mlp", NEW_CELL])
    assert np.allclose(a["distance"], b["distance"], rtol=1e-3)


def test_domain_distance_is_zero_on_training_networks_and_grows_away_from_them():
    rng = np.random.default_rng(1)
    aggregates = rng.uniform(0, 5, size=(12, len(OP_GROUPS) * len(AGGREGATE_KINDS)))
    families = np.repeat(["a", "b", "c"], 4)
    domain = Domain.fit(aggregates, families)
    assert np.allclose(domain.distance(aggregates), 0.0, atol=1e-6)
    assert domain.distance(aggregates * 50)[0] > domain.family_distance > 0


def test_a_training_network_read_back_from_the_file_lies_at_distance_zero():
    """The file rounds descriptors to 4 decimals: that rounding must not put a training network outside a
    one-family predictor, whose held-out distance is 0."""
    aggregates = np.random.default_rng(2).uniform(0, 5, size=(1, len(OP_GROUPS) * len(AGGREGATE_KINDS)))
    domain = Domain.from_json(Domain.fit(aggregates, np.array(["a"])).to_json())
    assert domain.family_distance == 0
    assert domain.distance(aggregates)[0] == 0.0
    assert domain.distance(aggregates * 1.5)[0] > 0


def test_a_size_no_training_row_varied_still_counts_as_uncovered_and_is_named(tmp_path):
    """Every training network ran at batch 1, so batch is constant in training and no layer model uses it;
    the same networks at batch 16 lie beyond it all the same, and the note says that batch is why."""
    from fakes.synthetic import network_layers, synthetic_frame
    from hwprof.fitting.fit import fit

    dataset = write(synthetic_frame(n_networks=12, batch_sizes=(1,)), tmp_path / "batch1.parquet")
    fit([dataset], tmp_path / "p.json", cv=False)
    predictor = load_predictor(tmp_path / "p.json")
    at_one, at_sixteen = (network_layers(np.random.default_rng(7), batch, 5) for batch in (1, 16))
    novelty = predictor.novelty(predictor.features_from_layers(["net", "net"], [1, 16], [at_one, at_sixteen]))
    assert novelty["uncovered_share"][0] == 0 and novelty["uncovered_by"][0] == ""
    assert novelty["uncovered_share"][1] > 0.9 and novelty["outside"][1]
    assert novelty["uncovered_by"][1].startswith("batch")
    note = predictor._outside_note(novelty, 1, widened=False)  # no cross-validation: no held-out error to widen by
    assert "(mostly batch" in note and "widened" not in note and "without cross-validation" in note


def test_an_op_measured_too_rarely_for_a_model_is_covered_where_it_was_measured(tmp_path):
    """One network's pools renamed to an op no other row has: too few configurations for a model of its
    own, so a group model costs it; at the sizes measured it is still covered, at batch 16 it is not."""
    from fakes.synthetic import synthetic_frame
    from hwprof.fitting.fit import fit
    from hwprof.predictor.features import LayerRecord

    frame = synthetic_frame(n_networks=12, batch_sizes=(1,))
    pooled = frame[(frame["kind"] == "layer") & (frame["op"] == "maxpool2d")]["model"].iloc[0]
    rare = (frame["model"] == pooled) & (frame["op"] == "maxpool2d")
    frame.loc[rare, "op"] = "rarepool2d"
    fit([write(frame, tmp_path / "rare.parquet")], tmp_path / "p.json", cv=False)
    predictor = load_predictor(tmp_path / "p.json")
    assert "rarepool2d" not in predictor.layer_sets["latency_ms"].ops  # costed by the pool group's model

    layers = frame[(frame["model"] == pooled) & (frame["kind"] == "layer")].sort_values("layer_index")

    def records(batch: int) -> list[LayerRecord]:
        scale = batch  # every size of this net grows with its batch
        return [
            LayerRecord(
                row.op,
                row.config.replace('"batch":1', f'"batch":{batch}').replace("[1,", f"[{batch},"),
                row.flops * scale,
                row.input_bytes * scale,
                row.output_bytes * scale,
                row.weight_bytes,
            )
            for row in layers.itertuples()
        ]

    novelty = predictor.novelty(predictor.features_from_layers(["net", "net"], [1, 16], [records(1), records(16)]))
    assert novelty["uncovered_share"][0] == 0 and novelty["uncovered_by"][0] == ""
    assert novelty["uncovered_share"][1] > 0.9


def test_a_predictor_of_one_family_says_it_had_no_held_out_family_to_compare_with(tmp_path):
    """One network in training (one family) leaves no held-out distance: the note must not quote 0.00."""
    from fakes.synthetic import synthetic_frame
    from hwprof.fitting.fit import fit

    dataset = write(synthetic_frame(n_networks=1), tmp_path / "one_family.parquet")
    fit([dataset], tmp_path / "p.json", cv=False)
    predictor = load_predictor(tmp_path / "p.json")
    assert predictor.domain.family_distance == 0
    (note,) = [w for w in predictor.predict("mlp").warnings if w.startswith("outside the training data")]
    assert "all of one family" in note and "within 0.00" not in note


def test_the_note_says_widened_only_where_the_interval_grew(nb201_only_predictor):
    # at a confidence that already takes the largest held-out error, widening changes nothing: the note says so
    n = len(nb201_only_predictor.network_models["latency_ms"].model.residuals)
    prediction = nb201_only_predictor.predict("mlp", confidence=n / (n + 1) - 1e-9)
    (note,) = [w for w in prediction.warnings if w.startswith("outside the training data")]
    assert "already spans the largest error a held-out network showed" in note and "widened" not in note


def test_predict_features_widens_and_flags_networks_outside_as_predict_and_predict_many_do(nb201_only_predictor):
    predictor = nb201_only_predictor
    table = predictor.predict_many([NEW_CELL, "mlp"], confidence=0.5)
    arrays = predictor.predict_features(predictor.features([NEW_CELL, "mlp"]), confidence=0.5)
    assert list(arrays["outside"]) == list(table["outside"]) == [False, True]
    for column in ("latency_ms", "latency_ms_low", "latency_ms_high"):
        assert arrays[column] == pytest.approx(table[column].to_numpy(), rel=1e-12)
    one = predictor.predict_features(predictor.features(["mlp"]), confidence=0.5)  # one network's own path
    assert one["outside"][0]
    low, high = predictor.predict("mlp", confidence=0.5).interval["latency_ms"]
    assert (one["latency_ms_low"][0], one["latency_ms_high"][0]) == pytest.approx((low, high), rel=1e-12)
    assert "outside" not in predictor.predict_features(predictor.features(["mlp"]), intervals=False)
