"""show's run line counts its rows in words that agree with the count."""

from click.testing import CliRunner

from fakes.runs import synthetic_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter


def test_a_run_of_one_row_says_one_row(tmp_path):
    path = tmp_path / "one.parquet"
    with DatasetWriter(path, {"run_id": "run1", "schema_version": 1}) as writer:
        writer.write([synthetic_row("net", -1, [0.001] * 6)])
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert "(complete): 1 row on" in result.output and "1 rows" not in result.output
