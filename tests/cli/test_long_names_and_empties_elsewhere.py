"""A name past the folder's limit is one sentence wherever it is given (an input dataset, fit --base, report
--predictor, search --out), as it already was for outputs; an empty search --study-name or Python seq_lens='' is
refused, not taken as left out."""

import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.models.inputs import parse_seq_lens

LONG = "L" * 300


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return str(write(synthetic_frame(n_networks=3, seed=1), tmp_path / "d.parquet"))


@pytest.mark.parametrize(
    "args",
    [
        ["fit", f"{LONG}.parquet", "--out", "p.json"],
        ["fit", "DATASET", "--base", f"{LONG}.json", "--out", "p.json"],
        ["report", "DATASET", "--predictor", f"{LONG}.json", "--out", "r.html"],
        ["search", "demo", "--out", LONG],
    ],
)
def test_a_name_past_the_limit_is_one_sentence(args, dataset):
    result = CliRunner().invoke(main, [dataset if arg == "DATASET" else arg for arg in args])
    assert result.exit_code == 1, result.output
    assert "failed unexpectedly" not in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1


def test_an_empty_study_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["search", "demo", "--study-name", ""])
    assert result.exit_code == 1 and "--study-name is empty" in result.output
    assert list(tmp_path.iterdir()) == []


def test_empty_sequence_lengths_from_python_are_refused():
    with pytest.raises(HwprofError, match="is empty"):
        parse_seq_lens(" ")
    assert parse_seq_lens(None) == () and parse_seq_lens("128,512") == (128, 512)
