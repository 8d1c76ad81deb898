"""A name past the folder's limit (255 bytes) failed as a bug in `fit --out` (the predictor's own checks looked at the
path before check_output weighed its name) and in `plot-trace` (the trace's is_file raised "File name too long").
Each now says, in one sentence, that the name is too long."""

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main

LONG = "n" * 300


def said_too_long(result) -> None:
    assert result.exit_code == 1, result.output
    assert "failed unexpectedly" not in result.output and result.output.count("\n") == 1, result.output
    assert "past this folder's limit of" in result.output and "give a name of at most" in result.output


def test_fit_out_with_a_name_past_the_limit_is_one_sentence(tmp_path):
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    result = CliRunner().invoke(main, ["fit", str(dataset), "--out", str(tmp_path / f"{LONG}.json")])
    said_too_long(result)
    assert result.output.startswith(f"Error: The output name {LONG[:40]}... is 305 bytes long")


def test_plot_trace_of_a_name_past_the_limit_is_one_sentence(tmp_path):
    result = CliRunner().invoke(main, ["plot-trace", str(tmp_path / f"{LONG}.trace.parquet")])
    said_too_long(result)
    assert result.output.startswith(f"Error: The name {LONG[:40]}... in ") and "is 314 bytes long" in result.output
