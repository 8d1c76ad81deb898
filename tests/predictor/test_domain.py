"""A prediction says when the network lies outside the training data, and widens its interval."""

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import DEVICE, _row, write
from hwprof.predictor.domain import Domain
from hwprof.predictor.features import AGGREGATE_KINDS, OP_GROUPS, LayerRecord
from hwprof.predictor.predictor import load_predictor
from hwprof.predictor.records import network_layers
from hwprof.schema import REQUIRED_COLUMNS

CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|",
    "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|",
    "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|",
    "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|",
]
NEW_CELL = "nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|"


def planted_ms(records) -> float:
    """0.8 ms per GMAC, 0.02 ms per MB moved, 5 us per layer."""
    gmac = sum(r.flops for r in records) / 1e9
    mb = sum(r.input_bytes + r.output_bytes + r.weight_bytes for r in records) / 1e6
    return 0.8 * gmac + 0.02 * mb + 0.005 * len(records)


@pytest.fixture(scope="module")
def nb201_only_predictor(tmp_path_factory):
    from hwprof.fitting.pipeline import fit

    rng = np.random.default_rng(0)
    rows = []
    for cell in CELLS:
        for batch in (1, 2):
            records = network_layers(f"nb201:{cell}", batch).records
            total = LayerRecord("network", "{}", sum(r.flops for r in records), 0.0, 0.0, 0.0)
            latency = planted_ms(records) * float(np.exp(rng.normal(0, 0.03)))
            rows.append(_row("network", f"nb201:{cell}", batch, -1, "", total, latency, None, DEVICE))
    directory = tmp_path_factory.mktemp("domain")
    dataset = write(pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS)), directory / "nb201.parquet")
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
