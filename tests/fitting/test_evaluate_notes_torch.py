"""A predictor keeps the torch release of its training runs, so evaluate can say when the data ran another, and fit
can say when its datasets did."""

import json

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.data import read_inputs, torch_warning
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit


def with_run(frame, path, run):
    """`frame` written to `path` with a provenance sidecar holding this one run (as collect_provenance names it)."""
    written = write(frame.assign(run_id=run["run_id"]), path)
    path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    return written


def test_the_predictor_keeps_the_torch_and_hwprof_of_its_runs_and_evaluate_notes_another_torch(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=5)
    new = with_run(
        frame, tmp_path / "new.parquet", {"run_id": "new", "threads": 1, "torch": "2.14.1", "hwprof": "0.1.0"}
    )
    old = with_run(
        frame, tmp_path / "old.parquet", {"run_id": "old", "threads": 1, "torch": "2.1.2", "hwprof": "0.0.9"}
    )
    predictor = fit([new], cv=False, family="polynomial")
    (run,) = predictor.doc["training"]["sources"][0]["runs"]
    assert run["torch"] == "2.14.1" and run["hwprof"] == "0.1.0"
    report, _ = evaluate(predictor, [old])
    assert (
        "the predictor was fitted on data measured with torch 2.14.1 but this data with torch 2.1.2: these figures "
        "measure transfer between torch releases"
    ) in report["note"]
    # its own training data: in-sample, said so, and no other note
    assert evaluate(predictor, [new])[0]["note"].startswith("every network scored was in the predictor's training data")


def test_datasets_of_two_torch_releases_get_one_warning_naming_them(tmp_path):
    frame = synthetic_frame(n_networks=4, seed=5)
    new = with_run(frame, tmp_path / "new.parquet", {"run_id": "new", "threads": 1, "torch": "2.14.1"})
    old = with_run(frame, tmp_path / "old.parquet", {"run_id": "old", "threads": 1, "torch": "2.1.2"})
    unknown = with_run(frame, tmp_path / "unknown.parquet", {"run_id": "unknown", "threads": 1})
    assert torch_warning(read_inputs([new, old])[1]) == (
        "the datasets ran different torch releases (2.1.2: old.parquet; 2.14.1: new.parquet), and a release may "
        "pick other kernels for the same layer; measure them all with one torch"
    )
    assert torch_warning(read_inputs([new, unknown])[1]) is None  # a run that recorded none is not another release
