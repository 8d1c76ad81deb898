"""The frame `hwprof.measure` returns carries its run's provenance in .attrs, as the dataset file it writes does:
where, on what and how it was measured travel with the numbers."""

import torch

import hwprof
from hwprof.dataset import read_provenance

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.1, "threads": 1, "seed": 0, "sweep_share": 0}


def test_the_returned_frame_carries_the_runs_provenance_without_a_file():
    frame = hwprof.measure("mlp", layers=False, **FAST)
    (run,) = frame.attrs["provenance"]
    assert run["torch"] == torch.__version__ and run["device"] == "cpu" and run["device_name"]
    assert run["host"] and run["threads"] == 1
    assert run["plan"]["models"] == ["mlp"] and run["power"]["requested"] == "none"
    assert run["execution"]["dtype"] == "float32"
    assert run["status"] == "complete" and run["rows"] == len(frame)
    assert set(frame["run_id"]) == {run["run_id"]}  # each row names the run it came from


def test_the_returned_frame_carries_what_the_file_carries(tmp_path):
    out = tmp_path / "m.parquet"
    frame = hwprof.measure("mlp", layers=False, out=str(out), **FAST)
    assert frame.attrs["provenance"] == read_provenance(out)
    assert set(frame["run_id"]) == {frame.attrs["provenance"][-1]["run_id"]}


def test_a_run_in_several_processes_returns_their_provenance_in_the_one_that_combined_them():
    frame = hwprof.measure("mlp", layers=False, processes=2, **FAST)
    (run,) = frame.attrs["provenance"]
    assert len(run["processes"]) == 2 and run["plan"]["processes"] == 2
    assert len(run["process_speeds"]) == 2 and all(speed > 0 for speed in run["process_speeds"])
    assert run["status"] == "complete" and set(frame["run_id"]) == {run["run_id"]}
