"""The gate's messages count and name the rows it could not decide by their kind: `hwprof run` rows are
commands, and calling them network rows sent their users after remedies for networks."""

import uuid

from click.testing import CliRunner

from fakes.runs import minimal_command_row
from hwprof.cli import main
from hwprof.dataset import plain_row, rows_frame, write_table
from hwprof.schema import SCHEMA_VERSION


def one_run(path, energies_j: dict[str, float]):
    """One `hwprof run` per command of `energies_j` (command line -> joules over 1 s), into one dataset."""
    runs, rows = [], []
    for command, energy_j in energies_j.items():
        run_id = uuid.uuid4().hex
        runs.append({"run_id": run_id, "schema_version": SCHEMA_VERSION})
        figures = {"latency_ms": 1000.0, "energy_mj": energy_j * 1e3, "power_w": energy_j}
        rows.append(plain_row({**minimal_command_row(command.split()), **figures}, run_id))
    write_table(path, rows_frame(rows), runs)
    return path


def test_risen_commands_the_gate_cannot_decide_are_counted_as_command_rows(tmp_path):
    base = one_run(tmp_path / "base.parquet", {"sh a.sh": 100.0, "sh b.sh": 100.0, "sh c.sh": 100.0})
    new = one_run(tmp_path / "new.parquet", {"sh a.sh": 120.0, "sh b.sh": 118.0, "sh c.sh": 125.0})
    result = CliRunner().invoke(main, ["compare", str(base), str(new), "--metric", "energy_mj", "--fail-above", "5%"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "command sh a.sh energy_mj rose +20.0%" in message
    assert "and so did 2 more command rows, so --fail-above cannot decide" in message
    assert "network" not in message


def test_rows_of_both_kinds_are_counted_each_by_its_own():
    from hwprof.compare import _more_rows

    rows = [{"kind": "command"}, {"kind": "network"}, {"kind": "command"}]
    assert _more_rows(rows) == "1 more network row and 2 more command rows"


def test_commands_the_table_leaves_out_are_called_command_rows(tmp_path):
    commands = {f"sh job{k}.sh": 100.0 + k for k in range(25)}
    base = one_run(tmp_path / "base.parquet", commands)
    new = one_run(tmp_path / "new.parquet", {command: 1.1 * energy for command, energy in commands.items()})
    result = CliRunner().invoke(main, ["compare", str(base), str(new)])
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "5 more command rows not shown" in message and "the table keeps the 20 command rows" in message
    assert "network rows" not in message
