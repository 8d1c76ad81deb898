"""No table cuts or folds a number: on an 80-column terminal show's 95% interval was split mid-number ('0.077-0.0'
over '81'), and at 32 columns or fewer whole columns were drawn 0 wide, their figures gone."""

import io
import json
import re
import sys

import pytest
from click.testing import CliRunner
from rich.table import Table

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.cli.common import make_console

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.TextIOWrapper):
    """A terminal as rich sees one (isatty), whose bytes the test reads back."""

    def isatty(self):
        return True


def shown_on_terminal(monkeypatch, columns: int, *args) -> str:
    stream = Terminal(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("COLUMNS", str(columns))
    try:
        main.main([str(arg) for arg in args], standalone_mode=False)
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    stream.flush()
    return ANSI.sub("", stream.buffer.getvalue().decode())


def cells(output: str) -> set[str]:
    """Every word of every table line: a number split over two lines is two words, neither of them the number."""
    return {word for line in output.splitlines() for word in re.split(r"[\s│┃|]+", line) if word}


@pytest.mark.parametrize("columns", [80, 40, 30, 20])
def test_every_figure_of_the_networks_table_is_printed_whole(tmp_path, monkeypatch, columns):
    dataset = write_run(tmp_path / "a.parquet", models=("mlp", "squeezenet1_1_quantized_long_name"))
    (entry, *_) = json.loads(CliRunner().invoke(main, ["show", str(dataset), "--json"]).output)["networks"]
    figures = [
        f"{entry['latency_ms']:.3f}",
        f"{entry['latency_ms_ci_low']:.3f}",
        f"{entry['latency_ms_ci_high']:.3f}",
        f"{entry['sum_of_layers_ms']:.3f}",
    ]
    output = shown_on_terminal(monkeypatch, columns, "show", dataset)
    assert set(figures) <= cells(output), output
    assert "dataset:" in output


def test_a_table_too_wide_for_the_console_runs_past_it_rather_than_drop_a_column():
    table = Table("a", "b", "c", "d", "e", "f", "g", "h")
    table.add_row(*[f"{1000 + index}.25" for index in range(8)])
    console = make_console()
    console.width = 24
    with console.capture() as captured:
        console.print(table)
    assert {f"{1000 + index}.25" for index in range(8)} <= cells(captured.get())
