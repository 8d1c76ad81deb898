"""A dataset whose provenance is damaged (crafted, or edited by hand) is refused in one sentence naming the file, by
every command, where it is read: `show` and `fit` failed "unexpectedly ... this is a bug" on "runs": "abc", a run
"plan": 5, a journal's {"provenance": 5} or a command line with an open quote."""

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_dataset, read_provenance
from hwprof.errors import HwprofError


@pytest.fixture
def runs_file(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    result = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "echo", "'unterminated"])
    assert result.exit_code == 0, result.output
    return out


def with_document(path, change) -> None:
    table = pq.read_table(path)
    document = change(json.loads(table.schema.metadata[b"hwprof"]))
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"hwprof": json.dumps(document)}), path)


DAMAGE = {
    "runs is text": (lambda doc: {**doc, "runs": "abc"}, "\"runs\" is 'abc', not a list"),
    "a run is a number": (lambda doc: {**doc, "runs": [5]}, "run 1 is 5, not an object"),
    "plan is a number": (lambda doc: {**doc, "runs": [{**doc["runs"][0], "plan": 5}]}, '"plan": 5, not an object'),
    "allocator is a list": (
        lambda doc: {**doc, "runs": [{**doc["runs"][0], "allocator": [1]}]},
        '"allocator": [1], not an object',
    ),
    "the allocator's policy is an object": (
        lambda doc: {**doc, "runs": [{**doc["runs"][0], "allocator": {"policy": {"a": 1}}}]},
        "\"allocator.policy\": {'a': 1}, not text",
    ),
    "the allocator's library is a list": (
        lambda doc: {**doc, "runs": [{**doc["runs"][0], "allocator": {"policy": "steady", "library": ["x"]}}]},
        "\"allocator.library\": ['x'], not text",
    ),
    "command holds a number": (
        lambda doc: {**doc, "runs": [{**doc["runs"][0], "command": ["echo", 5]}]},
        "not a list of strings",
    ),
    "the document is a list": (lambda doc: [doc], "it holds list, not an object"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_metadata_is_one_sentence_from_show_fit_and_the_library(runs_file, damage):
    change, words = DAMAGE[damage]
    with_document(runs_file, change)
    for command in (["show", str(runs_file)], ["fit", str(runs_file), "--out", str(runs_file.with_suffix(".json"))]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1 and "this is a bug" not in result.output, result.output
        assert f"The hwprof metadata inside {runs_file} is damaged" in result.output and words in result.output
    for read in (read_provenance, read_dataset):
        with pytest.raises(HwprofError, match="is damaged"):
            read(runs_file)


def test_a_damaged_csv_sidecar_is_named(sysfs_root, tmp_path):
    out = tmp_path / "runs.csv"
    assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"]).exit_code == 0
    sidecar = tmp_path / "runs.csv.json"
    document = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**document, "runs": [{**document["runs"][0], "power": "rapl"}]}))
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 1 and f"The provenance sidecar {sidecar} is damaged" in result.output, result.output


def test_a_journal_whose_provenance_is_not_an_object_is_said_unreadable(runs_file):
    """The table is whole: show says the journal beside it cannot be read back, as for any damaged journal."""
    (runs_file.parent / "runs.parquet.partial.jsonl").write_text('{"provenance": 5}\n')
    result = CliRunner().invoke(main, ["show", str(runs_file)])
    assert result.exit_code == 0 and "cannot be read back" in result.output, result.output


def test_a_command_line_with_an_open_quote_is_shown_from_its_recorded_arguments(runs_file):
    table = pq.read_table(runs_file).to_pandas()
    table["model"] = "echo 'unterminated"  # a command line no shell splits, as a hand-edited file may hold
    table.to_parquet(runs_file)
    result = CliRunner().invoke(main, ["show", str(runs_file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["commands"][0]["command"] == ["echo", "'unterminated"]
