"""`show` of a run interrupted in its default layer sweep says the sweep was cut short, from the run's fit_sweep
record, so a CI author knows a resume still has rounds to measure; it said "interrupted" and listed nothing."""

import json

from click.testing import CliRunner

from fakes.runs import synthetic_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter
from hwprof.schema import SCHEMA_VERSION

SAMPLES_S = (1e-3, 1.1e-3, 0.9e-3)


def write(path, status, sweep_s, rounds=1, skipped_reason=None):
    """A run whose one network finished, then whose sweep took `sweep_s` of its 2.5 s budget (networks 10 s at the
    default share 0.2)."""
    plan = {"models": ["net"], "batch_sizes": [1]}
    writer = DatasetWriter(path, {"run_id": "r1", "schema_version": SCHEMA_VERSION, "plan": plan})
    writer.write([synthetic_row("net", 0, SAMPLES_S), synthetic_row("net", -1, SAMPLES_S)])
    record = {"share_allowed": 0.2, "ops": ["linear"], "configurations": 2, "sweep_s": sweep_s, "networks_s": 10.0}
    writer.provenance["fit_sweep"] = (
        record | {"rounds": rounds} | ({"skipped_reason": skipped_reason} if skipped_reason else {})
    )
    writer.close(status)
    return path


def show(*args):
    return CliRunner().invoke(main, ["show", *map(str, args)])


def test_a_sweep_cut_short_is_named_with_its_rounds_and_budget(tmp_path):
    path = write(tmp_path / "cut.parquet", "interrupted", sweep_s=1.2)
    shown = show(path)
    assert shown.exit_code == 0, shown.output
    assert (
        "layer sweep cut short: 1 round finished in 1.2 s of its 2.5 s budget; run the same measure command with --resume to finish it"
    ) in shown.output
    document = json.loads(show(path, "--json").output)
    assert document["not_measured"] == []  # the groups: every one finished
    assert document["sweep_unfinished"] == {"rounds": 1, "sweep_s": 1.2, "budget_s": 2.5}


def test_a_sweep_that_met_its_budget_or_a_complete_run_has_nothing_left(tmp_path):
    spent = write(tmp_path / "spent.parquet", "interrupted", sweep_s=2.6)  # cut in a round past its budget
    complete = write(tmp_path / "done.parquet", "complete", sweep_s=1.2)
    skipped = write(tmp_path / "skipped.parquet", "interrupted", sweep_s=0.0, rounds=0, skipped_reason="too short")
    for path in (spent, complete, skipped):
        assert "layer sweep cut short" not in show(path).output
        assert json.loads(show(path, "--json").output)["sweep_unfinished"] is None
