"""read_dataset keeps the runs' provenance in attrs, and pandas deep-copies attrs into every slice, group and
column it makes of a frame: compare, report and show of a 60-board fleet (120 runs) spent most of their minutes
copying the runs' records, once per device, network or setting. A slice now holds a list of the same records."""

import copy

import pandas.core.generic

from fakes.runs import write_run
from hwprof.compare import compare
from hwprof.dataset import merge_datasets, read_dataset

BOARDS = ("board-a", "board-b", "board-c")


def fleet(folder, name, seed):
    shards = [
        write_run(folder / f"{name}-{board}.parquet", seed=seed + n, device_name=board, models=("net", "cnn"))
        for n, board in enumerate(BOARDS)
    ]
    return merge_datasets(shards, folder / f"{name}.parquet")["out"]


def test_a_slice_holds_the_same_run_records_in_a_list_of_its_own(tmp_path):
    frame = read_dataset(fleet(tmp_path, "base", 1))
    runs = frame.attrs["provenance"]
    assert len(runs) == len(BOARDS)
    parts = [frame[frame["device_name"] == board] for board in BOARDS]
    parts += [part for _, part in frame.groupby("model")] + [frame.assign(extra=1), frame.copy()]
    for part in parts:
        held = part.attrs["provenance"]
        assert held == runs and all(a is b for a, b in zip(held, runs))
        assert held is not runs  # a caller appending to a slice's list leaves the frame's alone
    parts[0].attrs["provenance"].append({"run_id": "added"})
    assert len(frame.attrs["provenance"]) == len(BOARDS)
    assert copy.deepcopy(frame).attrs["provenance"] == runs


def test_compare_of_a_fleet_copies_no_run_record(tmp_path, monkeypatch):
    base, new = fleet(tmp_path, "base", 1), fleet(tmp_path, "new", 11)
    copied, deepcopy = [], copy.deepcopy

    def counted(value, memo=None):
        memo = {} if memo is None else memo
        result = deepcopy(value, memo)
        runs = value.get("provenance", []) if isinstance(value, dict) else []
        copied.extend(run for run in runs if id(run) in memo)
        return result

    monkeypatch.setattr(pandas.core.generic, "deepcopy", counted)
    report = compare(base, new)
    assert sorted({row["device_name"] for row in report["rows"]}) == list(BOARDS)
    assert copied == []
