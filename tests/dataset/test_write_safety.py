"""A dataset's files (table, provenance, raw samples) are replaced as one, and only by the writer holding its
lock: an interrupted merge leaves the old output whole or none, a merge never replaces a file measure is
writing, and what a killed writer left behind is cleaned up by the next one."""

import os
import signal
import uuid

import pytest

import hwprof.dataset as dataset_module
from fakes.runs import minimal_layer_row
from hwprof.dataset import DatasetWriter, merge_datasets, read_provenance, sidecar_path
from hwprof.errors import HwprofError
from hwprof.files import ExclusiveLock
from hwprof.samples import RawSamples, read_samples, samples_path


def _shard(path, rows: int) -> str:
    run_id = uuid.uuid4().hex
    with DatasetWriter(path, {"run_id": run_id}) as writer:
        for index in range(rows):
            writer.write([minimal_layer_row(index)], RawSamples.uniform([0.001, 0.0011, 0.0012], 10))
    return run_id


def _files(out) -> dict:
    return {path.name: path.read_bytes() for path in (out, sidecar_path(out), samples_path(out)) if path.exists()}


@pytest.fixture
def merged(tmp_path):
    """mg.parquet merged from one shard, and a second shard to merge over it."""
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    _shard(old, 2)
    _shard(new, 3)
    out = tmp_path / "mg.parquet"
    merge_datasets([old], out)
    return out, new


def _interrupt_at_the_table(monkeypatch, table):
    """KeyboardInterrupt as the table itself is about to be written, after its companions were."""
    write_table = dataset_module.write_table

    def interrupted(path, frame, runs):
        if os.fspath(path) == os.fspath(table):
            dataset_module.write_atomically(dataset_module.sidecar_path(path), lambda tmp: tmp.write_text("{}"))
            raise KeyboardInterrupt
        return write_table(path, frame, runs)

    monkeypatch.setattr(dataset_module, "write_table", interrupted)


def test_an_interrupted_merge_over_an_output_leaves_the_old_one_whole(merged, monkeypatch):
    out, new = merged
    before = _files(out)
    _interrupt_at_the_table(monkeypatch, out)
    with pytest.raises(KeyboardInterrupt):
        merge_datasets([new], out, force=True)
    assert _files(out) == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []


def test_an_interrupted_merge_to_a_new_output_leaves_none(merged, monkeypatch):
    out, new = merged
    fresh = out.with_name("mg3.parquet")
    _interrupt_at_the_table(monkeypatch, fresh)
    with pytest.raises(KeyboardInterrupt):
        merge_datasets([new], fresh)
    assert _files(fresh) == {}
    assert not any(p.name.startswith(".mg3") or p.name.startswith("mg3") for p in out.parent.iterdir())


def test_ctrl_c_while_the_merged_files_are_written_waits_for_all_of_them(merged, monkeypatch):
    """A real SIGINT landing between the raw samples and the table is held until the three are in place."""
    out, new = merged
    write_table = dataset_module.write_table

    def signalled(path, frame, runs):
        signal.raise_signal(signal.SIGINT)
        return write_table(path, frame, runs)

    monkeypatch.setattr(dataset_module, "write_table", signalled)
    with pytest.raises(KeyboardInterrupt):
        merge_datasets([new], out, force=True)
    runs = {run["run_id"] for run in read_provenance(out)}
    assert len(runs) == 1 and set(read_samples(out)["run_id"]) == runs
    assert len(dataset_module.read_dataset(out)) == 3


def test_merge_refuses_an_output_that_measure_is_writing(merged):
    out, new = merged
    with ExclusiveLock(out, "hwprof measure"):
        with pytest.raises(HwprofError, match="being written by hwprof measure"):
            merge_datasets([new], out, force=True)
    assert len(dataset_module.read_dataset(out)) == 2


def test_a_writer_removes_what_a_killed_writer_of_its_path_left_and_nothing_else(tmp_path):
    out = tmp_path / "e8.parquet"
    _shard(out, 1)
    left = [".e8.parquet.0wv4_oy3.tmp", ".e8.parquet.json.0wv4_oy3.tmp", ".e8.parquet.samples.parquet.y5xi7owv.tmp"]
    others = [".e8.parquet.x.0wv4_oy3.tmp", ".e9.parquet.abcdefgh.tmp", "e8.parquet.abcdefgh.tmp"]
    for name in left + others:
        (tmp_path / name).write_text("")
    (tmp_path / "e8.parquet.lock").write_text("hwprof measure (pid 1)\n")  # its holder is gone
    with DatasetWriter(out, {"run_id": uuid.uuid4().hex}, resume=True) as writer:
        writer.write([minimal_layer_row(1)])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in {"e8.parquet", "e8.parquet.json"}) == sorted(
        others + ["e8.parquet.samples.parquet"]
    )
