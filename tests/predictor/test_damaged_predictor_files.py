"""A predictor file damaged (or edited by hand) so that it would load but fail at its first prediction is
refused when it is loaded, in one sentence that says to refit it."""

import json

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path, refused_when_loaded
from hwprof.errors import HwprofError


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return json.loads(open(path).read())


def _without_latency_model(doc):
    del doc["network_models"]["latency_ms"]


def _offsets(value):
    def damage(doc):
        doc["layer_models"]["latency_ms"]["offsets"] = value

    return damage


def _short_coef(doc):
    doc["network_models"]["latency_ms"]["coef"] = doc["network_models"]["latency_ms"]["coef"][:-1]


def _short_additive_coef(doc):
    doc["network_models"]["latency_ms"] = {
        "target": "latency_ms",
        "form": "additive",
        "columns": ["intercept", "layers:conv"],
        "coef": [0.5],
        "lambda": 1.0,
    }


def _short_clip(doc):
    doc["network_models"]["latency_ms"]["clip_high"] = doc["network_models"]["latency_ms"]["clip_high"][:1]


def _op_model(doc, having):
    """The name and latency_ms layer model of the first op whose model has a non-empty `having` list."""
    ops = doc["layer_models"]["latency_ms"]["ops"]
    path = having.split(".")
    for op, model in ops.items():
        section = model
        for key in path[:-1]:
            section = section[key]
        if section[path[-1]]:
            return op, section
    raise AssertionError(f"no op model has {having}")


def _cut(having, key):
    """One value lost from a list that pairs with another (coefficients with their pairs, lows with variables)."""

    def damage(doc):
        _, section = _op_model(doc, having)
        section[key] = section[key][:-1]

    return damage


def _unknown(part, key):
    def damage(doc):
        model = next(iter(doc["layer_models"]["latency_ms"]["ops"].values()))
        (model[part] if part else model)[key] = "no-such-kind"

    return damage


@pytest.mark.parametrize(
    "damage, says",
    [
        (_cut("quadratic.pairs", "coef"), r"the latency_ms model of \w+ has \d+ quadratic coef values for its \d+ "),
        (_cut("linear.variables", "coef"), r"the latency_ms model of \w+ has \d+ linear coef values"),
        (_cut("clip.variables", "low"), r"the latency_ms model of \w+ has \d+ clip low values for its \d+ clip"),
        (
            _cut("coverage.variables", "low"),
            r"the latency_ms model of \w+ has \d+ coverage low values for its \d+ coverage variables",
        ),
        (
            _cut("base.variables", "coef"),
            r"the latency_ms model of \w+ has \d+ base coef values for its \d+ base variables",
        ),
        (
            _unknown("", "kind"),
            r"the latency_ms model of \w+ has kind 'no-such-kind', unknown to this hwprof \(it knows polynomial, trees, blend\)",
        ),
        (
            _unknown("base", "form"),
            r"the latency_ms model of \w+ has a base of form 'no-such-kind', unknown to this hwprof",
        ),
    ],
    ids=["quadratic coef", "linear coef", "clip low", "coverage low", "base coef", "kind", "base form"],
)
def test_a_layer_model_with_a_part_cut_short_or_unknown_isrefused_when_loaded(doc, tmp_path, damage, says):
    """zip dropped what a cut list left unpaired, so a damaged layer model loaded and predicted otherwise."""
    refused_when_loaded(doc, tmp_path, damage, rf"ValueError: {says}.*")


@pytest.mark.parametrize(
    "damage, says",
    [
        (_without_latency_model, r"its network_models\.latency_ms is missing"),
        (_offsets([0.5]), "offsets is a list, not a number per op"),
        (_offsets("fast"), "offsets is a str"),
        (_offsets({"relu": "fast"}), "the offset of relu is 'fast', not a number"),
        (_short_coef, "2 coef values for its 3 columns"),
        (_short_additive_coef, "1 coef values for its 2 columns"),
        (_short_clip, "1 clip_high values"),
    ],
    ids=["no latency model", "offsets list", "offsets text", "offset text", "short coef", "short additive", "clip"],
)
def test_a_file_that_would_fail_at_first_use_isrefused_when_loaded(doc, tmp_path, damage, says):
    refused_when_loaded(doc, tmp_path, damage, rf".*{says}.*")


def test_a_damaged_document_given_to_predictor_is_one_sentence(doc):
    """Predictor(doc) from Python words a damaged part as load_predictor does, not as a raw ValueError."""
    damaged = json.loads(json.dumps(doc))
    _short_coef(damaged)
    with pytest.raises(HwprofError, match=r"the predictor document given is damaged \(.*2 coef values.*\); refit it"):
        hwprof.Predictor(damaged)
