"""A scaled prior's interval for a network outside its few new networks is at least as wide as the widest error
of the board it was scaled from on held-out families, and its note says what was held out."""

import math

import pytest

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor.intervals import widest_bounds
from hwprof.predictor.predictor import load_predictor

LATENCY_COLUMNS = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    directory = tmp_path_factory.mktemp("boards")
    fast = synthetic_frame(n_networks=20, seed=1, device="fast", layer_noise=0.02, network_noise=0.02)
    new = fast.assign(device_name="new")
    new[LATENCY_COLUMNS] = new[LATENCY_COLUMNS] * 1.7  # exactly 1.7x: the scale's own leave-one-out errors are tiny
    five = new[new["model"].isin(sorted(set(new["model"]))[:5])]
    fleet = write(fast, directory / "fast.parquet")
    out = directory / "prior.json"
    adapted = fit([write(five, directory / "new5.parquet")], out, family="polynomial", prior=[fleet])
    return {"base": fit([fleet], family="polynomial"), "adapted": adapted, "file": out}


def test_an_outside_network_gets_at_least_the_base_board_s_widest_held_out_error(fitted):
    assert fitted["adapted"].doc["training"]["prior"]["how"] == "scaled"
    low, high, _ = widest_bounds(fitted["base"].network_models["latency_ms"].model.residuals)
    for predictor in (fitted["adapted"], load_predictor(fitted["file"])):  # the file carries it
        prediction = predictor.predict("mlp")
        assert prediction.novelty["outside"]
        total = prediction.total["latency_ms"]
        below, above = prediction.interval["latency_ms"]
        assert below <= total * math.exp(low) * (1 + 1e-9)
        assert above >= total * math.exp(high) * (1 - 1e-9)


def test_the_outside_note_names_what_was_held_out(fitted):
    note = next(w for w in fitted["adapted"].predict("mlp").warnings if w.startswith("outside the training data"))
    assert "held-out network or a held-out family of fast's own predictor" in note
    assert "a held-out family showed" not in note
