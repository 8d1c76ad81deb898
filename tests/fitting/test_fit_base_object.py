"""fit(base=...) takes a Predictor as evaluate does, and a fitted predictor knows the file it was written to."""

import pytest

import hwprof
from fakes.synthetic import synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit
from hwprof.predictor.predictor import IN_MEMORY


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("base")
    base = directory / "base.json"
    fit([write(synthetic_frame(n_networks=10, seed=50), directory / "base.parquet")], out=base, cv=False)
    small = write(synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta")), directory / "small.parquet")
    return directory, base, small


def test_a_loaded_predictor_is_a_base_as_its_file_is(data):
    _, base, small = data
    from_file = fit([small], base=base, cv=False)
    from_object = fit([small], base=hwprof.load_predictor(base), cv=False)
    assert from_object.doc["network_models"] == from_file.doc["network_models"]


def test_a_base_predictor_is_never_overwritten_through_its_object(data):
    _, base, small = data
    with pytest.raises(HwprofError) as error:
        fit([small], base=hwprof.load_predictor(base), out=base, force=True)
    assert "object at 0x" not in str(error.value)


def test_a_base_that_is_neither_names_what_it_takes_without_a_repr(data):
    _, _, small = data
    with pytest.raises(HwprofError, match="a predictor file or a Predictor"):
        fit([small], base=42, cv=False)


def test_the_fitted_predictor_knows_its_file(data):
    directory, base, small = data
    out = directory / "adapted.json"
    assert fit([small], base=base, out=out, cv=False).source == str(out)
    assert fit([small], base=base, cv=False).source == IN_MEMORY  # not base's file: it is no copy of it
    assert fit([small], out=directory / "own.json", cv=False).source == str(directory / "own.json")
