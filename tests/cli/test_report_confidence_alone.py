"""`hwprof report --confidence` without --predictor was accepted and ignored: it only sets the level of the
predictor's intervals."""

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


def _report(tmp_path, *extra):
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    return CliRunner().invoke(main, ["report", dataset, "--out", str(tmp_path / "r.html"), *extra])


def test_a_confidence_without_a_predictor_is_refused_in_one_sentence(tmp_path):
    result = _report(tmp_path, "--confidence", "0.5")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --confidence 0.5 only sets the interval level of --predictor: add --predictor, or drop it"
    ]
    assert not (tmp_path / "r.html").exists()


def test_its_default_given_without_a_predictor_still_writes_the_report(tmp_path):
    result = _report(tmp_path, "--confidence", "0.9")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").exists()
