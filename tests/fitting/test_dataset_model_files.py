"""A dataset may come from anyone: a network row naming a Python file runs it only when the user says so."""

import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit
from hwprof.report.page import build_report

PAYLOAD = """
import torch.nn as nn

open({marker!r}, "a").write("ran\\n")


def x():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    model.input_shape = (8,)
    return model
"""
OWN_ROWS = "mlp,1,1.0\nmlp,2,1.5\nmlp,4,2.4\nmlp_large,1,3.0\nmlp_large,2,5.0\nmlp_large,4,9.0\n"


@pytest.fixture
def shared(tmp_path):
    """(dataset, marker): another lab's table whose first row names payload.py, which writes the marker when run."""
    marker = tmp_path / "PWNED"
    (tmp_path / "payload.py").write_text(PAYLOAD.format(marker=str(marker)))
    dataset = tmp_path / "shared.csv"
    dataset.write_text(f"model,batch_size,latency_ms\n{tmp_path / 'payload.py'}:x,1,5\n{OWN_ROWS}")
    return dataset, marker


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    directory = tmp_path_factory.mktemp("own")
    (directory / "own.csv").write_text(f"model,batch_size,latency_ms\n{OWN_ROWS}")
    fit([directory / "own.csv"], out=directory / "own.json", cv=False)
    return directory / "own.json"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def said(result) -> str:
    return " ".join(result.output.split())


def test_fit_runs_no_model_file_a_dataset_names_unless_told(shared, tmp_path):
    dataset, marker = shared
    refused = run("fit", dataset, "--out", tmp_path / "p.json", "--no-cv")
    assert refused.exit_code == 1 and "Traceback" not in refused.output and not marker.exists()
    assert f"network row '{tmp_path / 'payload.py'}:x' (batch 1)" in said(refused)
    assert f"names the Python file {tmp_path / 'payload.py'}" in said(refused)
    assert "pass --run-model-files if you trust it, or measure the model with its layers" in said(refused)
    told = run("fit", dataset, "--out", tmp_path / "p.json", "--no-cv", "--run-model-files")
    assert told.exit_code == 0, told.output
    assert marker.read_text() == "ran\n"


def test_fit_from_python_names_the_setting_as_python_does(shared, tmp_path):
    dataset, marker = shared
    with pytest.raises(HwprofError, match="pass run_model_files=True if you trust it"):
        fit([dataset], out=tmp_path / "p.json", cv=False)
    assert not marker.exists()
    fit([dataset], out=tmp_path / "p.json", cv=False, run_model_files=True)
    assert marker.read_text() == "ran\n"


def test_a_prior_fleets_rows_run_no_model_file_unless_told(shared, tmp_path):
    """--prior's boards are fitted from their rows too: a fleet file naming a Python file is refused alike."""
    dataset, marker = shared
    rows = dataset.read_text().split("\n", 1)[1]
    fleet, new = tmp_path / "fleet.csv", tmp_path / "new.csv"
    fleet.write_text("model,batch_size,latency_ms,device_name\n" + rows.replace("\n", ",old\n"))
    new.write_text("model,batch_size,latency_ms,device_name\n" + OWN_ROWS.replace("\n", ",new\n"))
    refused = run("fit", new, "--prior", fleet, "--out", tmp_path / "p.json", "--no-cv")
    assert refused.exit_code == 1 and "names the Python file" in said(refused) and not marker.exists()
    run("fit", new, "--prior", fleet, "--out", tmp_path / "p.json", "--no-cv", "--run-model-files")
    assert marker.exists()


def test_evaluate_runs_no_model_file_a_dataset_names_unless_told(shared, predictor):
    dataset, marker = shared
    with pytest.raises(HwprofError, match="names the Python file"):
        evaluate(predictor, [dataset])
    assert not marker.exists()
    refused = run("evaluate", predictor, dataset)
    assert refused.exit_code == 1 and "pass --run-model-files" in said(refused) and not marker.exists()
    told = run("evaluate", predictor, dataset, "--run-model-files")
    assert told.exit_code == 0, told.output
    assert marker.exists()


def test_a_report_scoring_a_predictor_runs_no_model_file_a_dataset_names_unless_told(shared, predictor, tmp_path):
    _, marker = shared
    frame = synthetic_frame(n_networks=3)
    payload = frame[frame["kind"] == "network"].head(1).assign(model=f"{tmp_path / 'payload.py'}:x")
    dataset = write(pd.concat([frame, payload], ignore_index=True), tmp_path / "d.parquet")
    with pytest.raises(HwprofError, match="names the Python file"):
        build_report([dataset], tmp_path / "r.html", predictor=predictor)
    assert not marker.exists()
    refused = run("report", dataset, "--predictor", predictor, "--out", tmp_path / "r.html")
    assert refused.exit_code == 1 and "pass --run-model-files" in said(refused) and not marker.exists()
    build_report([dataset], tmp_path / "r.html", predictor=predictor, run_model_files=True)
    assert marker.exists()


def test_model_names_that_are_no_files_are_traced_as_before(tmp_path):
    cell = "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    (tmp_path / "cells.csv").write_text(f"model,batch_size,latency_ms\n{cell},1,4\n{OWN_ROWS}")
    assert fit([tmp_path / "cells.csv"], cv=False).doc["training"]["rows"]["networks"] == 7
