"""show of a run that a full disk or a file-size limit stopped, and of `hwprof run`'s commands in --json: a table
never written is not merely absent when its journal holds the run's rows, a stopped run is not called killed, and
a command's entry has the power spread and the reason power was unavailable that `run --json` gives."""

import json
import sys
import uuid
from pathlib import Path

from click.testing import CliRunner

from fakes.runs import minimal_command_row, minimal_layer_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter


def _journal_only(path, rows: int) -> None:
    """What a run leaves when a full disk refused its first table: the journal (and the lock file) alone."""
    provenance = {"run_id": uuid.uuid4().hex, "argv": ["hwprof", "measure", "mlp", "--out", path.name]}
    lines = [{"provenance": provenance}] + [{"row": minimal_layer_row(index)} for index in range(rows)]
    (path.parent / f"{path.name}.partial.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_table_never_written_names_the_journal_that_holds_its_rows(tmp_path):
    """It said only 'Dataset f1.parquet does not exist.', though --resume recovers the rows."""
    out = tmp_path / "f1.parquet"
    _journal_only(out, 2)
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 1
    assert shown.output.strip() == (
        f"Error: Dataset {out} does not exist: its run did not finish (killed, or stopped by a write that failed) "
        "before writing it, and its 2 row(s) are in f1.parquet.partial.jsonl beside it; recover them with "
        f"`hwprof measure mlp --out {out} --resume`."  # the run's own --out was relative to where it ran
    )


def test_a_run_whose_journal_holds_more_is_not_said_to_be_killed_only(tmp_path):
    out = tmp_path / "stopped.parquet"
    writer = DatasetWriter(out, {"run_id": uuid.uuid4().hex}, rewrite_interval_s=3600)
    for index in range(3):
        writer.write([{**minimal_layer_row(index), "stable": True}])
    writer._journal.close()
    writer._lock._handle.close()
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "did not finish (killed, or stopped by a write that failed): 2 more row(s)" in shown.output


def test_show_json_gives_a_commands_power_spread_and_unavailable_reason(tmp_path):
    out = tmp_path / "runs.parquet"
    row = {**minimal_command_row(["sleep", "1"]), "power_spread": 0.04}
    runs = [
        {"run_id": uuid.uuid4().hex, "command": ["sleep", "1"], "power": {"unavailable_reason": "tegrastats exited"}},
        {"run_id": uuid.uuid4().hex, "command": ["sleep", "1"]},  # written before the reason was recorded
    ]
    for provenance, spread in zip(runs, [0.04, None]):
        with DatasetWriter(out, provenance, append=True, holder="hwprof run") as writer:
            writer.write([{**row, "power_spread": spread}])
    shown = CliRunner().invoke(main, ["show", "--json", str(out)])
    assert shown.exit_code == 0, shown.output
    commands = json.loads(shown.output)["commands"]
    assert [(entry["power_spread"], entry["unavailable_reason"]) for entry in commands] == [
        (0.04, "tegrastats exited"),
        (None, None),
    ]


def test_show_json_commands_have_the_keys_run_json_has(tmp_path):
    out = tmp_path / "runs.parquet"
    ran = CliRunner().invoke(
        main, ["run", "--json", "--power", "none", "--out", str(out), "--", sys.executable, "-c", "pass"]
    )
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.output)
    shown = CliRunner().invoke(main, ["show", "--json", str(out)])
    [command] = json.loads(shown.output)["commands"]
    assert command["unavailable_reason"] == summary["unavailable_reason"]
    assert command["power_spread"] == summary["power_spread"]


def test_the_resume_command_names_the_dataset_read_whatever_form_its_out_took():
    from hwprof.dataset import _out_as_read

    read = Path("/data/sub/X.parquet")
    for args in (["measure", "mlp", "-o", "X.parquet"], ["measure", "mlp", "-oX.parquet"], ["measure", "mlp"]):
        resumed = _out_as_read([*args, "--resume"], read)
        assert resumed.count(str(read)) + resumed.count(f"--out={read}") == 1 and "--resume" not in resumed
        assert "X.parquet" not in resumed and "-oX.parquet" not in resumed
