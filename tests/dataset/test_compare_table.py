"""`hwprof compare`'s table of rows: every paired row is shown, or the output says how many were left out and why."""

import re

from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main


def table_rows(output):
    """The labels of the rows table's lines (`net batch 1 layer 3 layers.2`, `net batch 1 network`)."""
    table = output.split("per model:")[0]
    return re.findall(r"│ (\S+ batch 1 (?:network|layer \d+ layers\.\d+)) +│", table)


def test_rows_whose_latency_did_not_change_significantly_are_shown_too(tmp_path):
    """9 rows paired, 8 shown: a layer whose latency was not significant was left out of the table with no word,
    though its energy rose 43%."""
    base = write_run(tmp_path / "base.parquet", power_w=10.0, seed=1)
    same = write_run(tmp_path / "same.parquet", power_w=10.0, seed=2)
    result = CliRunner().invoke(main, ["compare", str(base), str(same)])
    assert result.exit_code == 0, result.output
    assert "9 rows paired" in result.output
    assert len(table_rows(result.output)) == LAYERS + 1 and "not shown" not in result.output


def test_a_table_too_long_says_how_many_rows_it_left_out_and_why(tmp_path):
    models = ("a", "b", "c")  # 24 layer rows, over the 20 the table keeps
    base = write_run(tmp_path / "base.parquet", models=models, seed=1)
    slower = write_run(tmp_path / "slower.parquet", models=models, factor=1.1, seed=2)
    result = CliRunner().invoke(main, ["compare", str(base), str(slower)])
    assert result.exit_code == 0, result.output
    shown = table_rows(result.output)
    assert len(shown) == len(models) + 20
    left_out = 3 * LAYERS - 20
    assert f"{left_out} more layer rows not shown ({left_out} of them changed significantly)" in result.output
    assert "--json lists every row" in result.output
