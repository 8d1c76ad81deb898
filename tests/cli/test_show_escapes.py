"""Names and provenance read from a dataset reach the terminal escaped: a model named with ESC, BEL and \\r set the
window title and overwrote lines of `hwprof show`, which printed them raw."""

import json
import sys

import pyarrow.parquet as pq
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.cli.common import make_console, printable

EVIL = "\x1b[31mRED\x1b[0m\rOVERWRITE\x1b]0;title\x07\x9b2J"
RAW = ("\x1b", "\x07", "\r", "\x9b")


def assert_escaped(output: str) -> None:
    assert not any(code in output for code in RAW), repr(output)
    assert "\\x1b[31mRED\\x1b[0m\\x0dOVERWRITE\\x1b]0;title\\x07\\x9b2J" in output


def test_printable_escapes_what_a_terminal_obeys_once_and_keeps_tabs_and_lines():
    assert printable(EVIL) == "\\x1b[31mRED\\x1b[0m\\x0dOVERWRITE\\x1b]0;title\\x07\\x9b2J"
    assert printable("a\tb\nc\x7f") == "a\tb\nc\\x7f"
    assert printable("a\nb", newlines=False) == "a\\x0ab"
    assert printable(printable(EVIL)) == printable(EVIL)  # escaped text holds no control character to escape again


def test_show_prints_a_datasets_names_and_provenance_escaped(tmp_path):
    frame = synthetic_frame(n_networks=2)
    frame["model"], frame["run_id"] = EVIL, "run-1"
    frame["layer_name"] = frame["layer_name"].where(frame["kind"] != "layer", EVIL)
    path = tmp_path / "evil.parquet"
    write(frame, path)
    table = pq.read_table(path)
    runs = [{"run_id": "run-1", "status": "complete", "device_name": EVIL, "hwprof": EVIL}]
    document = json.dumps({"schema_version": 1, "runs": runs}).encode()
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), b"hwprof": document}), path)
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert_escaped(result.output)
    assert "slowest layers" in result.output and "run " in result.output


def test_show_prints_a_commands_line_escaped(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    ran = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", sys.executable, "-c", "0", EVIL])
    assert ran.exit_code == 0, ran.output
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 0, result.output
    assert_escaped(result.output)


def test_every_table_printed_through_the_console_is_escaped(capsys):
    """compare, predict and evaluate print their tables through make_console too."""
    from rich.table import Table

    table = Table("model", title=EVIL)
    table.add_row(EVIL)
    make_console().print(table)
    make_console().print(f"note: {EVIL}")
    printed = capsys.readouterr().out
    assert not any(code in printed for code in RAW) and printed.count("\\x1b[31mRED") == 3


def test_an_error_quoting_a_name_given_to_hwprof_shows_it_escaped(tmp_path):
    """Errors and notes quote model names and paths, which come from datasets too: they printed them raw."""
    result = CliRunner().invoke(main, ["show", str(tmp_path / f"{EVIL}.parquet")])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert_escaped(result.output)
