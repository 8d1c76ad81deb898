"""An empty option value silently meant "not given": `evaluate --plot ''` wrote no plot, `fit --target ''` fitted
every target and `plot-trace --out ''` wrote the default path."""

import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


@pytest.mark.parametrize(
    "command, sentence",
    [
        (
            ["fit", "{dataset}", "--out", "{tmp}/p.json", "--target", ""],
            "--target is empty: give latency, power or energy (comma-separated), or leave it out to fit every "
            "target the datasets measured",
        ),
        (
            ["fit", "{dataset}", "--out", "{tmp}/p.json", "--target", ","],
            "--target is empty: give latency, power or energy",
        ),
        (
            ["evaluate", "{tmp}/p.json", "{dataset}", "--plot", ""],
            "--plot is empty: give a file name such as plot.png, or leave it out",
        ),
        (
            ["plot-trace", "{tmp}/d.trace.parquet", "--out", ""],
            "--out is empty: give a file name such as trace.png, or leave it out to write TRACE as .png",
        ),
    ],
)
def test_an_empty_value_is_refused_in_one_sentence(tmp_path, command, sentence):
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    args = [part.format(dataset=dataset, tmp=tmp_path) for part in command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {sentence}")
    assert not (tmp_path / "p.json").exists()
