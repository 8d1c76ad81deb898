"""`hwprof report --out ''` said "the report  must end in .html", with the name missing."""

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


def test_an_empty_report_name_is_said_to_be_empty(tmp_path):
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    result = CliRunner().invoke(main, ["report", dataset, "--out", ""])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the report's name (--out) is empty: give a file name such as report.html"
    ]
