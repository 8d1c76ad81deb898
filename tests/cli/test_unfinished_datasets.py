"""`show` and `merge` on the dataset of a killed run: said once, shown as interrupted, and left out of a
merge only when asked (--skip-unfinished)."""

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from hwprof.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset"))
from test_dataset import make_provenance, make_row  # noqa: E402
from test_unfinished import killed_run  # noqa: E402

from hwprof.dataset import DatasetWriter  # noqa: E402


def hwprof(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_show_says_a_killed_run_is_interrupted_and_its_journal_holds_more_rows(tmp_path):
    path = tmp_path / "dd.parquet"
    killed_run(path)
    result = hwprof("show", path)
    assert result.exit_code == 0, result.output
    assert "(interrupted): 13 rows" in result.stdout and "(running)" not in result.stdout
    assert result.stderr.count("note:") == 1 and "5 more row(s) are in its journal" in result.stderr
    assert "UnfinishedDatasetWarning" not in result.stderr  # a note, not Python's warning format
    as_json = hwprof("show", path, "--json")
    assert json.loads(as_json.stdout)["runs"][0]["status"] == "interrupted"


def test_merge_skip_unfinished_merges_the_boards_that_finished_and_names_the_others(tmp_path):
    with DatasetWriter(tmp_path / "board-a.parquet", make_provenance()) as writer:
        writer.write([make_row(0, device_name="CPU A")])
    killed_run(tmp_path / "board-b.parquet")
    shards = [tmp_path / "board-a.parquet", tmp_path / "board-b.parquet"]
    refused = hwprof("merge", *shards, "--out", tmp_path / "fleet.parquet")
    assert refused.exit_code == 1 and "--skip-unfinished" in refused.output and "--resume" in refused.output
    merged = hwprof("merge", *shards, "--out", tmp_path / "fleet.parquet", "--skip-unfinished")
    assert merged.exit_code == 0, merged.output
    assert "1 unfinished shard(s) left out" in merged.stdout
    assert f"warning: {shards[1]} belongs to a run that did not finish" in merged.stderr
    assert "left out" in merged.stderr


def test_every_command_that_reads_a_killed_run_says_so_as_a_note(tmp_path):
    """compare reads datasets as show does: the unfinished run is one note line, not Python's warning format."""
    path = tmp_path / "dd.parquet"
    killed_run(path)
    result = hwprof("compare", path, path)
    assert "note:" in result.stderr and "5 more row(s) are in its journal" in result.stderr
    assert "UnfinishedDatasetWarning" not in result.stderr
