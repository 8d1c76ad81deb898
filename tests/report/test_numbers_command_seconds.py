"""A command's seconds read alike in `hwprof run`, `show` and the report's Commands table: one formatter."""

import json
import uuid

from fakes.runs import minimal_command_row
from hwprof.cli.run import command_entries, command_lines
from hwprof.dataset import plain_row, read_dataset, read_provenance, rows_frame, write_table
from hwprof.report.page import build_report
from hwprof.schema import SCHEMA_VERSION


def test_show_and_the_report_write_a_commands_seconds_alike(tmp_path):
    rows, runs = [], []
    for argv, latency_ms in ((["sleep", "1"], 1060.0), (["sleep", "0.7"], 778.3)):
        run_id = uuid.uuid4().hex
        runs.append({"run_id": run_id, "schema_version": SCHEMA_VERSION})
        config = json.dumps({"argv": argv, "exit_status": 0, "idle_s": None})
        rows.append(plain_row({**minimal_command_row(argv), "config": config, "latency_ms": latency_ms}, run_id))
    dataset = tmp_path / "r.parquet"
    write_table(dataset, rows_frame(rows), runs)
    shown = command_lines(command_entries(read_dataset([dataset]), read_provenance(dataset)))
    assert [", 1.060 s," in shown[0], ", 0.778 s," in shown[1]] == [True, True]
    out = tmp_path / "r.html"
    build_report([dataset], out)
    commands = out.read_text().split('id="commands"')[1]
    assert "<td>1.060</td>" in commands and "<td>0.778</td>" in commands
    assert "<td>1.06</td>" not in commands and "0.7783" not in commands
