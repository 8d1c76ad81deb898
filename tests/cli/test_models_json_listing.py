"""`hwprof models --json` listed the built-in models only, while its text also names the layer sweeps (sweep:OP) and
the model zoos, installed or not: a script can now learn both, and the built-in entries keep their keys."""

import json

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.models.sources import SOURCES
from hwprof.sample_models import MODELS
from hwprof.sample_models.sweep import SAMPLERS

KEYS = {"name", "source", "input_shape", "family", "description"}


def listed(*args) -> list[dict]:
    result = CliRunner().invoke(main, ["models", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_json_listing_names_the_sweeps_and_the_zoos_as_the_text_does():
    entries = listed()
    builtin = [entry for entry in entries if entry["source"] == "builtin"]
    assert [entry["name"] for entry in builtin] == sorted(MODELS) and all(set(entry) == KEYS for entry in builtin)
    sweeps = [entry["name"] for entry in entries if entry["source"] == "sweep"]
    assert sweeps == [f"sweep:{op}" for op in SAMPLERS]
    zoos = {entry["source"]: entry for entry in entries if entry["source"] in SOURCES}
    assert set(zoos) == set(SOURCES)
    for prefix, entry in zoos.items():
        assert entry["name"] == f"{prefix}:NAME" and entry["installed"] is SOURCES[prefix].installed
        assert (entry["install"] is None) is entry["installed"]


def test_the_builtin_listing_leaves_the_zoos_out_as_its_text_does():
    sources = {entry["source"] for entry in listed("--source", "builtin")}
    assert sources == {"builtin", "sweep"}
