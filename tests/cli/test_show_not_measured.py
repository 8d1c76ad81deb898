"""`show` of an interrupted run names the groups it planned and never finished, so a CI author sees what a
resume still has to measure; it said only "interrupted"."""

import json

from click.testing import CliRunner

from fakes.runs import synthetic_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter
from hwprof.schema import SCHEMA_VERSION

SAMPLES_S = (1e-3, 1.1e-3, 0.9e-3)


def write(path, status):
    plan = {"models": ["net", "other", "sweep:relu:2"], "batch_sizes": [1, 2], "cache": "cold"}
    writer = DatasetWriter(path, {"run_id": "r1", "schema_version": SCHEMA_VERSION, "plan": plan})
    writer.write([synthetic_row("net", 0, SAMPLES_S), synthetic_row("net", -1, SAMPLES_S)])  # net at batch 1: done
    writer.write([synthetic_row("other", 0, SAMPLES_S)])  # other at batch 1: a layer, no network row yet
    writer.write([synthetic_row("sweep:relu:2", 0, SAMPLES_S)])  # a sweep has no network row: a layer finishes it
    writer.close(status)
    return path


def show(*args):
    return CliRunner().invoke(main, ["show", *map(str, args)])


def test_an_interrupted_run_names_what_a_resume_still_has_to_measure(tmp_path):
    path = write(tmp_path / "cut.parquet", "interrupted")
    shown = show(path)
    assert shown.exit_code == 0, shown.output
    assert (
        "not measured yet: net at batch 2, other at batch 1, other at batch 2, sweep:relu:2 at batch 2; run the "
        "same measure command with --resume to measure them"
    ) in shown.output
    missing = json.loads(show(path, "--json").output)["not_measured"]
    assert missing == [
        {"model": "net", "batch_size": 2},
        {"model": "other", "batch_size": 1},
        {"model": "other", "batch_size": 2},
        {"model": "sweep:relu:2", "batch_size": 2},
    ]


def test_a_complete_run_has_nothing_left_to_measure(tmp_path):
    path = write(tmp_path / "done.parquet", "complete")
    assert "not measured yet" not in show(path).output
    assert json.loads(show(path, "--json").output)["not_measured"] == []
