"""An output that ends in a separator names a folder: it is refused in one sentence, never written as a file
with the folder's name (Path() drops the separator). Windows takes "/" as well as "\\"."""

import os

import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import DatasetWriter, check_dataset_output, merge_datasets
from hwprof.errors import HwprofError
from hwprof.files import check_output
from hwprof.predictor.predictor import check_predictor_output

REFUSED = "ends in a separator, so it is a directory name: give a file name."


@pytest.mark.parametrize(
    "command",
    [
        ["fit", "w1.parquet", "--out", "newdir/"],
        ["merge", "w1.parquet", "--out", "newdir/"],
        ["measure", "mlp", "--out", "newdir/"],
    ],
)
def test_a_command_refuses_an_out_that_names_a_folder(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "w1.parquet")
    before = sorted(os.listdir(tmp_path))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == f"Error: The output newdir/ {REFUSED}\n"
    assert sorted(os.listdir(tmp_path)) == before


def test_the_python_calls_refuse_an_output_ending_in_either_separator(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "altsep", "\\")  # Windows: "\\" is os.sep, "/" os.altsep; here the other way round
    shard = write_run(tmp_path / "w1.parquet")
    for separator in ("/", "\\"):
        out = f"{tmp_path}/newdir{separator}"
        for call in (
            lambda: check_output(out),
            lambda: check_dataset_output(out),
            lambda: DatasetWriter(out, {"run_id": "r"}),
            lambda: merge_datasets(shard, out),
            lambda: check_predictor_output(out),
        ):
            with pytest.raises(HwprofError, match=REFUSED):
                call()
    assert sorted(os.listdir(tmp_path)) == ["w1.parquet", "w1.parquet.json", "w1.parquet.samples.parquet"]
