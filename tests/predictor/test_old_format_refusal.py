"""A predictor file of an older format is refused in one sentence that names the datasets to refit from, where
its training recorded them, as the fit command to run."""

import json

import pytest
from click.testing import CliRunner

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.cli import main
from hwprof.errors import HwprofError


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return json.loads(open(path).read())


def older(doc, path, sources):
    """`doc` as a format-1 file (as hwprof wrote before 2026-11-29) whose training recorded `sources`."""
    doc = json.loads(json.dumps(doc))
    doc["format_version"] = 1
    doc["training"]["sources"] = sources
    path.write_text(json.dumps(doc))
    return path


def test_an_older_file_names_the_fit_of_its_datasets(doc, tmp_path):
    sources = [{"path": "../data/zoo.parquet", "rows": 2158}, {"path": "my runs/b.parquet", "rows": 40}]
    path = older(doc, tmp_path / "old.json", sources)
    with pytest.raises(HwprofError) as error:
        hwprof.load_predictor(path)
    refit = tmp_path / "old_refit.json"
    assert str(error.value) == (
        f"{path} has predictor file format version 1, but this hwprof reads version 2; fit one again from the "
        f"datasets it was fitted from (`hwprof fit ../data/zoo.parquet 'my runs/b.parquet' --out {refit}`, their "
        "paths as that fit was given them)"
    )
    result = CliRunner().invoke(main, ["predict", str(path), "mlp"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "hwprof fit ../data/zoo.parquet" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("sources", [[], "damaged", [{"rows": 3}], [{"path": ""}], [{"path": 7}]])
def test_an_older_file_that_recorded_no_datasets_is_refused_as_before(doc, tmp_path, sources):
    with pytest.raises(
        HwprofError, match=r"format version 1, but this hwprof reads version 2; fit one with `hwprof fit`"
    ):
        hwprof.load_predictor(older(doc, tmp_path / "old.json", sources))


@pytest.mark.parametrize("adapted_by", ["network_refit", "prior"])
def test_an_older_adapted_file_is_refused_without_a_fit_that_would_remake_its_base(doc, tmp_path, adapted_by):
    """An adapted file's sources are its base's (before 2026-12-07): their fit would remake the base, not it."""
    path = older(doc, tmp_path / "old.json", [{"path": "../data/zoo.parquet", "rows": 2158}])
    written = json.loads(path.read_text())
    written["training"][adapted_by] = {"sources": [{"path": "new_board.parquet"}]}
    path.write_text(json.dumps(written))
    with pytest.raises(HwprofError, match=r"version 2; fit one with `hwprof fit`") as error:
        hwprof.load_predictor(path)
    assert "zoo.parquet" not in str(error.value)
