"""An empty output path (`--out ''`) is named as empty, not as the folder "." the user never typed."""

import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.files import as_path, check_output


@pytest.mark.parametrize("check", [check_output, lambda text: as_path(text, "output")])
def test_an_empty_output_path_is_refused_as_empty(check):
    with pytest.raises(HwprofError, match=r"^The output path is empty; give a file name\.$"):
        check("")


@pytest.mark.parametrize("option", ["--out", "--json-out"])
def test_run_with_an_empty_output_says_so_before_cmd_runs(option, tmp_path):
    """It said "Output . is a directory; give a file name such as out."."""
    ran = tmp_path / "ran"
    result = CliRunner().invoke(main, ["run", "--power", "none", option, "", "--", "touch", str(ran)])
    assert result.exit_code == 1 and "output path is empty; give a file name" in result.output, result.output
    assert "Output . is a directory" not in result.output and not ran.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["merge", "SHARD", "--out", " "],
        ["fit", "SHARD", "--out", "  "],
        ["measure", "mlp", "--power", "none", "--out", " "],
        ["run", "--power", "none", "--out", " ", "--", "true"],
    ],
)
def test_an_output_path_of_blanks_is_refused_and_nothing_is_written(args, tmp_path, monkeypatch):
    """merge and fit wrote a dataset or predictor named " ", which no listing shows."""
    shard = write_run(tmp_path / "shard.parquet")
    monkeypatch.chdir(tmp_path)
    args = [str(shard) if arg == "SHARD" else arg for arg in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "output path is only blanks; give a file name" in result.output, result.output
    assert not any(path.name.strip() == "" for path in tmp_path.iterdir())
