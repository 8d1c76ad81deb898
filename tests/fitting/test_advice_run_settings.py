"""An advised `hwprof measure` command keeps the cache mode and allocator policy the data was measured in: data
measured at measure's defaults beside a warm, system-allocator dataset is what fit then warns about."""

import json

import pytest

from fakes.synthetic import ONE_RUN, synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.advice import MEASURE_SETTINGS, measure_flags
from hwprof.fitting.fit import fit
from hwprof.measuring.allocator import DEFAULT_POLICY
from hwprof.schema import DEFAULT_CACHE_MODE

WARM_SYSTEM = dict(ONE_RUN, cache={"mode": "warm"}, allocator={"policy": "system", "applied": True})


def test_the_defaults_are_measures_own():
    assert MEASURE_SETTINGS["cache"][0] == DEFAULT_CACHE_MODE
    assert MEASURE_SETTINGS["allocator"][0] == DEFAULT_POLICY


def _sources(**run) -> list[dict]:
    return [{"path": "a.parquet", "runs": [dict({"run_id": "a", "threads": 1}, **run)]}]


def test_only_settings_away_from_the_defaults_add_an_option():
    assert measure_flags(_sources(cache="cold", allocator="steady")) == " --threads 1"
    assert measure_flags(_sources(cache="warm", allocator="system")) == " --threads 1 --cache warm --allocator system"
    # a label naming what served malloc is its policy; one from no measure run names none
    assert measure_flags(_sources(allocator="system (libjemalloc.so.2)")) == " --threads 1 --allocator system"
    assert measure_flags(_sources(allocator="unrecorded")) == " --threads 1"


@pytest.fixture(scope="module")
def warm_predictor(tmp_path_factory):
    directory = tmp_path_factory.mktemp("warm")
    dataset = write(
        synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta")).assign(run_id="run1"), directory / "w.parquet"
    )
    (directory / "w.parquet.json").write_text(json.dumps({"schema_version": 1, "runs": [WARM_SYSTEM]}))
    return fit([dataset], cv=False)


def test_fits_advice_measures_as_the_data_was(warm_predictor):
    notes = [w for w in warm_predictor.doc["training"]["warnings"] if "`hwprof measure " in w]
    assert notes
    for note in notes:
        assert " --threads 1 --cache warm --allocator system --out " in note


def test_the_predictors_measure_commands_keep_the_cache_mode_and_allocator(warm_predictor):
    assert "--dtype float16 --threads 1 --cache warm --allocator system`" in warm_predictor.untrained_note("float16")
    with pytest.raises(HwprofError, match=r"`hwprof measure MODELS --cache warm --allocator system --threads 2`"):
        warm_predictor.check_threads(2)
