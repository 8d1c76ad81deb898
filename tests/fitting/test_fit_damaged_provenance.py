"""A dataset's provenance comes from anyone: a run field of the wrong kind is one sentence naming the file and
the field, not "hwprof failed unexpectedly"."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame
from hwprof.cli import main
from hwprof.dataset import METADATA_KEY
from hwprof.errors import HwprofError
from hwprof.fitting.data import read_inputs
from hwprof.schema import SCHEMA_VERSION

RUN = {"run_id": "r1", "device": "cpu", "device_name": "Fake CPU", "threads": 1, "plan": {"layers": True}}


def dataset(path, **changes):
    """A small hwprof dataset whose one run has `changes` in its provenance."""
    table = pa.Table.from_pandas(synthetic_frame(n_networks=3).assign(run_id="r1"), preserve_index=False)
    document = {"schema_version": SCHEMA_VERSION, "runs": [{**RUN, **changes}]}
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, METADATA_KEY: json.dumps(document)}), path)
    return path


def test_an_undamaged_provenance_is_read(tmp_path):
    _, sources = read_inputs([dataset(tmp_path / "d.parquet")])
    assert sources[0]["runs"][0]["device"] == "cpu" and sources[0]["runs"][0]["threads"] == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"device": [1]}, "run 1 has device [1], where hwprof writes text"),
        ({"threads": "2"}, "run 1 has threads '2', where hwprof writes a whole number"),
        ({"plan": {"layers": [1]}}, "run 1 has plan.layers [1], where hwprof writes true or false"),
        ({"execution": {"dtype": 16}}, "run 1 has execution.dtype 16, where hwprof writes text"),
        ({"cache": {"mode": 1}}, "run 1 has cache.mode 1, where hwprof writes text"),
    ],
)
def test_a_run_field_of_the_wrong_kind_is_named(tmp_path, change, words):
    path = dataset(tmp_path / "d.parquet", **change)
    with pytest.raises(HwprofError, match="its provenance is damaged") as refused:
        read_inputs([path])
    assert str(refused.value).startswith(f"{path}: ") and words in str(refused.value)


@pytest.mark.parametrize("change", [{"plan": 5}, {"allocator": [1]}, {"device": [1]}, {"execution": "fast"}])
def test_fit_refuses_a_damaged_provenance_in_one_sentence(tmp_path, change):
    """plan 5 or allocator [1] gave AttributeError, device [1] TypeError: unhashable type, both as a bug."""
    path = dataset(tmp_path / "d.parquet", **change)
    result = CliRunner().invoke(main, ["fit", str(path), "--out", str(tmp_path / "p.json"), "--no-cv"])
    assert result.exit_code == 1 and "unexpectedly" not in result.output and "Traceback" not in result.output
    assert str(path) in result.output and "damaged" in result.output


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"run_id": [1]}, "run 1 has run_id [1]"),
        ({"power": {"unavailable_reason": [1]}}, "run 1 has power.unavailable_reason [1]"),
    ],
)
def test_report_refuses_a_damaged_provenance_in_one_sentence(tmp_path, change, words):
    """run_id [1] or a power reason [1] gave TypeError: unhashable type in the report, as a bug."""
    path = dataset(tmp_path / "d.parquet", **change)
    result = CliRunner().invoke(main, ["report", str(path), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "unexpectedly" not in result.output and "Traceback" not in result.output
    assert f"{path}: its provenance is damaged: {words}" in " ".join(result.output.split())
