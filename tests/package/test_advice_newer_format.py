"""A file of a newer format than this hwprof reads says how to get a newer hwprof as the README installs it, from
its source checkout: there is no hwprof on a package index, and `pip install --upgrade hwprof` fetched whatever
else bore the name, or failed."""

import json

import pytest

import hwprof
from hwprof.errors import HwprofError
from hwprof.files import read_json_document


def _newer(tmp_path, **recorded):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"format": "hwprof-thing", "format_version": 3, **recorded}))
    return path


def _refusal(path) -> str:
    with pytest.raises(HwprofError) as error:
        read_json_document(path, "hwprof-thing", 2, "thing file", "make one")
    return str(error.value)


def test_a_newer_file_names_the_checkouts_upgrade_not_a_package_index(tmp_path):
    said = _refusal(_newer(tmp_path))
    assert "newer than the 2 this hwprof reads: upgrade hwprof to read it: in its source checkout" in said
    assert "`git pull && pip install -e .`" in said and "--upgrade" not in said


def test_the_hwprof_that_wrote_it_is_named_where_recorded_and_another(tmp_path):
    assert "(hwprof 9.9.9 wrote it)" in _refusal(_newer(tmp_path, hwprof_version="9.9.9"))
    assert "wrote it" not in _refusal(_newer(tmp_path, hwprof_version=hwprof.__version__))
