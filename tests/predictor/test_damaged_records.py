"""A predictor file whose domain, cv or training record, or held-out residuals, were damaged by hand is refused when
it is loaded, in one sentence that says to refit it: before, it loaded, then failed as a bug in hwprof at a network
outside the training data, or blamed its missing intervals on too few held-out networks."""

import json

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path, refused_when_loaded


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), family="auto")
    doc = json.loads(open(path).read())
    assert doc["cv"]["scheme"] != "none" and doc["network_models"]["latency_ms"]["residuals_log"]
    return doc


def _set(path, value):
    def damage(doc):
        *parents, key = path.split(".")
        for parent in parents:
            doc = doc[parent]
        doc[key] = value(doc[key]) if callable(value) else value

    return damage


def _remove_residuals(doc):
    del doc["network_models"]["latency_ms"]["residuals_log"]


@pytest.mark.parametrize(
    "damage, says",
    [
        (_set("domain.centre", lambda centre: centre[:5]), r"domain.centre holds 5 values, not the 27"),
        (_set("domain.scale", lambda scale: scale + [1.0]), r"domain.scale holds 28 values"),
        (_set("domain.networks", lambda rows: [row[:-1] for row in rows]), r"domain.networks holds rows of \(26,\)"),
        (_set("domain.family_distance", -1.0), r"domain.family_distance is -1.0"),
        (_set("cv", "oops"), r"its cv is 'oops', not an object"),
        (_set("training", "oops"), r"its training is 'oops', not an object"),
        (_set("training.families", 3), r"training.families is 3, not a list"),
        (_remove_residuals, r"network_models.latency_ms.residuals_log is missing"),
        (_set("network_models.latency_ms.residuals_log", []), r"its cv held out \d+ networks, but .* is empty"),
    ],
)
def test_a_damaged_record_is_refused_when_loaded(doc, tmp_path, damage, says):
    refused_when_loaded(doc, tmp_path, damage, rf".*{says}.*")


def test_the_undamaged_file_loads(doc, tmp_path):
    path = tmp_path / "whole.json"
    path.write_text(json.dumps(doc))
    assert hwprof.load_predictor(path).domain.centre.shape == (27,)
