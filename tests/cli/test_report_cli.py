"""`hwprof report`'s options, checked whatever else is given."""

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


def test_a_confidence_out_of_range_is_refused_without_a_predictor_too(tmp_path):
    """It was checked only with --predictor: without one, --confidence 2 wrote the report and exited 0."""
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    result = CliRunner().invoke(main, ["report", dataset, "--out", str(tmp_path / "r.html"), "--confidence", "2"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--confidence must be between 0 and 1 (e.g. 0.9), not 2.0" in result.output
    assert not (tmp_path / "r.html").exists()
