"""`hwprof models --json` listed the built-in models only, while its text also names the layer sweeps (sweep:OP) and
the model zoos, installed or not: a script can now learn both, and the built-in entries keep their keys."""

import json

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.sample_models import MODELS
from hwprof.sample_models.sweep import SAMPLERS

KEYS = {"name", "source", "input_shape", "family", "description"}


def listed(*args) -> list[dict]:
    result = CliRunner().invoke(main, ["models", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_json_listing_names_the_sweeps_and_nothing_measure_would_refuse():
    """Every entry's name is one `hwprof measure` takes: a placeholder such as torchvision:NAME broke a script that
    measures every listed name; a zoo's models are listed by `--source PREFIX --json`."""
    entries = listed()
    builtin = [entry for entry in entries if entry["source"] == "builtin"]
    assert [entry["name"] for entry in builtin] == sorted(MODELS) and all(set(entry) == KEYS for entry in builtin)
    sweeps = [entry["name"] for entry in entries if entry["source"] == "sweep"]
    assert sweeps == [f"sweep:{op}" for op in SAMPLERS]
    assert len(entries) == len(builtin) + len(sweeps) and all(set(entry) == KEYS for entry in entries)
    assert not any(entry["name"].endswith(":NAME") for entry in entries)


def test_the_builtin_listing_is_the_same():
    assert listed("--source", "builtin") == listed()
