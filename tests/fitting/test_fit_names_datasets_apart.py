"""fit names datasets by the shortest ending of their paths no other shares: two boards' folders each holding
m.parquet read alike by their file names in its refusals and warnings."""

import json

import pytest

from fakes.synthetic import synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.data import allocator_warning
from hwprof.fitting.fit import fit


def with_runs(frame, path, runs) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    write(frame, path)
    path.with_name(path.name + ".json").write_text(json.dumps({"schema_version": 1, "runs": runs}))
    return str(path)


def test_two_folders_of_one_file_name_are_named_by_their_folders(tmp_path):
    paths = [
        with_runs(synthetic_frame(n_networks=6, seed=70).assign(run_id="one"), tmp_path / "orin" / "m.parquet",
                  [{"run_id": "one", "threads": 1}]),
        with_runs(synthetic_frame(n_networks=6, seed=71).assign(run_id="two"), tmp_path / "xavier" / "m.parquet",
                  [{"run_id": "two", "threads": 2}]),
    ]  # fmt: skip
    with pytest.raises(HwprofError, match=r"different thread counts \(1: orin/m.parquet; 2: xavier/m.parquet\)"):
        fit(paths, cv=False)


def test_the_allocator_warning_names_them_apart_too():
    sources = [
        {"path": "/data/orin/m.parquet", "runs": [{"run_id": "a", "allocator": "steady"}]},
        {"path": "/data/xavier/m.parquet", "runs": [{"run_id": "b", "allocator": "system"}]},
        {"path": "/data/xavier/n.parquet", "runs": [{"run_id": "c", "allocator": "system"}]},
    ]
    assert "(steady: orin/m.parquet; system: xavier/m.parquet, n.parquet)" in allocator_warning(sources)
