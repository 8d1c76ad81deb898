"""Where a predictor may be written is judged by what a file holds, as the readers judge it, not by its name: a
file holding a dataset is never replaced, whatever its name; a predictor named .parquet is replaced with --force
like any other; and a new output named as a dataset is refused, since readers would take it for one."""

import shutil

import pytest
from click.testing import CliRunner

from fakes.synthetic import predictor_of_network_rows
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.predictor.predictor import check_predictor_output, load_predictor

NETWORKS = "model,batch_size,latency_ms\nmlp,1,1.0\nmlp,2,1.5\nmlp_large,1,3.0\n"


@pytest.fixture(scope="module")
def predictor_path(tmp_path_factory):
    return predictor_of_network_rows(tmp_path_factory.mktemp("fit"))


@pytest.mark.parametrize("name", ["p.parquet", "p.CSV"])
def test_a_new_output_named_as_a_dataset_is_refused(tmp_path, name):
    with pytest.raises(HwprofError, match=rf"{name} is named as a dataset .*write the predictor to a \.json path"):
        check_predictor_output(tmp_path / name, force=True)


@pytest.mark.parametrize("name", ["p.parquet", "p.csv", "p"])
def test_force_replaces_a_predictor_whatever_its_name(predictor_path, tmp_path, name):
    older = tmp_path / name
    shutil.copy(predictor_path, older)
    with pytest.raises(HwprofError, match="already exists; pass force=True"):
        check_predictor_output(older)
    assert check_predictor_output(older, force=True) == older
    load_predictor(predictor_path).save(older, force=True)
    assert load_predictor(older).doc == load_predictor(predictor_path).doc


@pytest.mark.parametrize(
    "name, content",
    [
        ("ds.json", b"PAR1 then the row groups"),  # a Parquet dataset under another name
        ("ds.txt", NETWORKS.encode()),  # a CSV dataset, known by its header
        ("ds.json", b"\xef\xbb\xbf" + NETWORKS.encode()),  # as a spreadsheet saves one, with a byte-order mark
    ],
)
def test_a_file_holding_a_dataset_is_never_replaced_even_with_force(predictor_path, tmp_path, name, content):
    dataset = tmp_path / name
    dataset.write_bytes(content)
    with pytest.raises(HwprofError, match=rf"{name} is a dataset, which a predictor \(JSON\) never replaces"):
        load_predictor(predictor_path).save(dataset, force=True)
    assert dataset.read_bytes() == content


def test_fit_refuses_a_dataset_name_and_a_dataset_named_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nets.csv").write_text(NETWORKS)
    runner = CliRunner()
    refused = runner.invoke(main, ["fit", "nets.csv", "--no-cv", "--quiet", "--out", "p.parquet"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "p.parquet is named as a dataset" in refused.output and not (tmp_path / "p.parquet").exists()

    shutil.copy(tmp_path / "nets.csv", tmp_path / "ds.json")
    refused = runner.invoke(main, ["fit", "nets.csv", "--no-cv", "--quiet", "--out", "ds.json", "--force"])
    assert refused.exit_code == 1 and "ds.json is a dataset" in refused.output
    assert (tmp_path / "ds.json").read_text() == NETWORKS


def test_an_input_or_its_companion_is_named_as_such_first(tmp_path):
    dataset = tmp_path / "d.parquet"
    dataset.write_bytes(b"PAR1 rows")
    with pytest.raises(HwprofError, match="The output .*d.parquet is also an input"):
        check_predictor_output(dataset, inputs=[dataset], force=True)
    with pytest.raises(HwprofError, match=r"d.parquet.samples.parquet is the raw samples file of the input"):
        check_predictor_output(tmp_path / "d.parquet.samples.parquet", inputs=[dataset], force=True)
