"""fit warns once where its datasets ran different torch releases: a release may pick other kernels for the same
layer, which no layer setting the predictor sees can tell apart."""

import json

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting.fit import fit

TORCH_WARNING = (
    "the datasets ran different torch releases (2.1.2: old.parquet; 2.14.1: new.parquet), and a release may pick "
    "other kernels for the same layer; measure them all with one torch"
)


def with_run(frame, path, run):
    """`frame` written to `path` with a provenance sidecar holding this one run."""
    written = write(frame.assign(run_id=run["run_id"]), path)
    path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    return written


def datasets(tmp_path, old_torch="2.1.2"):
    frame = synthetic_frame(n_networks=6, seed=5)
    new = with_run(frame, tmp_path / "new.parquet", {"run_id": "new", "threads": 1, "torch": "2.14.1"})
    old = with_run(frame, tmp_path / "old.parquet", {"run_id": "old", "threads": 1, "torch": old_torch})
    return [new, old]


def test_fit_warns_once_of_datasets_that_ran_two_torch_releases(tmp_path):
    predictor = fit(datasets(tmp_path), cv=False, family="polynomial")
    assert predictor.doc["training"]["warnings"].count(TORCH_WARNING) == 1
    result = CliRunner().invoke(
        main, ["fit", *datasets(tmp_path), "--out", str(tmp_path / "p.json"), "--no-cv", "--family", "polynomial"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: the datasets ran different torch releases") == 1


def test_fit_says_nothing_of_torch_where_the_datasets_ran_one(tmp_path):
    predictor = fit(datasets(tmp_path, old_torch="2.14.1"), cv=False, family="polynomial")
    assert not any("torch" in warning for warning in predictor.doc["training"]["warnings"])
