"""Datasets on awkward filesystems: written and read through symbolic links, replaced while read, on a full
disk or a folder that turns read-only, under paths too long for the system."""

import errno
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

import hwprof.dataset as dataset_module
from fakes.runs import minimal_layer_row
from hwprof.dataset import DatasetWriter, merge_datasets, read_dataset, read_table, writer_of
from hwprof.errors import HwprofError
from hwprof.samples import RawSamples, read_samples


def _writer(path, **options) -> DatasetWriter:
    return DatasetWriter(path, {"run_id": uuid.uuid4().hex}, **options)


def _shard(path, rows: int, start: int = 0) -> None:
    with _writer(path) as writer:
        for index in range(start, start + rows):
            writer.write([minimal_layer_row(index)], RawSamples.uniform([0.001, 0.0011, 0.0012], 10))


def _killed(path, rows: int) -> None:
    """A run that wrote `rows` rows to its journal (the table holds the first) and was killed."""
    writer = _writer(path, rewrite_interval_s=3600)
    for index in range(rows):
        writer.write([minimal_layer_row(index)], RawSamples.uniform([0.001, 0.0011, 0.0012], 10))
    writer._journal.close()
    writer._lock._handle.close()  # the kernel drops a killed process's flock; its lock file stays


def test_appending_through_a_link_writes_its_target_and_keeps_the_link(tmp_path):
    real, link = tmp_path / "base.parquet", tmp_path / "latest.parquet"
    _shard(real, 2)
    link.symlink_to(real.name)
    with _writer(link, append=True, holder="hwprof run") as writer:
        writer.write([minimal_layer_row(5)], RawSamples.uniform([0.001, 0.0011, 0.0012], 10))
    assert link.is_symlink()
    assert len(read_table(real)) == 3
    assert read_samples(real)["key"].nunique() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "base.parquet",
        "base.parquet.json",
        "base.parquet.samples.parquet",
        "latest.parquet",
    ]


def test_resuming_through_a_link_folds_in_its_targets_journal(tmp_path):
    real, link = tmp_path / "real.parquet", tmp_path / "link.parquet"
    _killed(real, 4)
    link.symlink_to(real)
    with _writer(link, resume=True) as writer:
        assert len(writer.existing_rows()) == 4
    assert link.is_symlink()
    assert not (tmp_path / "real.parquet.partial.jsonl").exists()
    assert not (tmp_path / "real.parquet.lock").exists()
    assert len(read_dataset(link)) == 4


def test_a_link_to_a_dataset_being_written_names_its_writer(tmp_path):
    real, link = tmp_path / "real.parquet", tmp_path / "link.parquet"
    link.symlink_to(real)
    with _writer(real) as writer:
        writer.write([minimal_layer_row(0)])
        assert writer_of(link) is not None
        with pytest.raises(HwprofError, match="being written"):
            _writer(link, append=True)


def test_a_link_into_a_missing_folder_is_refused_as_a_missing_folder(tmp_path):
    link = tmp_path / "dang.parquet"
    link.symlink_to(tmp_path / "gone" / "x.parquet")
    with pytest.raises(HwprofError, match="does not exist"):
        _writer(link)
    assert link.is_symlink()


def test_a_dataset_replaced_while_it_is_read_reads_whole(tmp_path):
    """Another process's atomic replace lands between the reader's opens of one path: each read must take
    one file, old or new, never half of each (which read as a damaged file)."""
    small, large, out = tmp_path / "small.parquet", tmp_path / "large.parquet", tmp_path / "y.parquet"
    _shard(small, 1)
    _shard(large, 30)
    copies = {}
    for source in (small, large):
        for suffix in ("", ".samples.parquet"):
            copies[source, suffix] = Path(f"{source}{suffix}").read_bytes()
    for suffix in ("", ".samples.parquet"):
        Path(f"{out}{suffix}").write_bytes(copies[small, suffix])
    stop = threading.Event()

    def swap():
        turn = 0
        while not stop.is_set():
            source, turn = (small, large)[turn % 2], turn + 1
            for suffix in ("", ".samples.parquet"):
                temporary = tmp_path / f".swap{suffix}"
                temporary.write_bytes(copies[source, suffix])
                os.replace(temporary, f"{out}{suffix}")

    swapper = threading.Thread(target=swap)
    swapper.start()
    failures, end = [], time.monotonic() + 1.5
    try:
        while time.monotonic() < end:
            try:
                read_table(out)
                read_samples(out)
            except HwprofError as error:
                failures.append(str(error))
    finally:
        stop.set()
        swapper.join()
    assert failures == []


def test_a_folder_turned_read_only_is_said_as_the_write_that_failed(tmp_path, monkeypatch):
    """The lock file cannot be removed either: that must not replace the sentence about the dataset."""
    out = tmp_path / "ro.parquet"
    writer = _writer(out, rewrite_interval_s=3600)
    writer.write([minimal_layer_row(0)])
    unlink = Path.unlink

    def read_only(self, *args, **kwargs):
        if self.parent == tmp_path:
            raise PermissionError(1, "Operation not permitted", str(self))
        return unlink(self, *args, **kwargs)

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", read_only)
    monkeypatch.setattr(dataset_module, "write_dataset_files", refused)
    with pytest.raises(HwprofError, match=r"cannot write .*ro\.parquet \(Permission denied\)"):
        writer.close()


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_merge_onto_a_full_disk_says_so(tmp_path, monkeypatch):
    shard, out = tmp_path / "a.parquet", tmp_path / "all.parquet"
    _shard(shard, 2)
    monkeypatch.setattr(dataset_module, "write_table", _full_disk)
    with pytest.raises(HwprofError, match=r"cannot write .*all\.parquet: No space left on device"):
        merge_datasets([shard], out)
    assert not out.exists()


@pytest.mark.parametrize("options", [{"resume": True}, {"append": True, "holder": "hwprof run"}])
def test_recovering_a_journal_onto_a_full_disk_says_so_and_keeps_it(tmp_path, monkeypatch, options):
    out = tmp_path / "x.parquet"
    _killed(out, 3)
    monkeypatch.setattr(dataset_module, "write_table", _full_disk)
    with pytest.raises(HwprofError, match=r"cannot write .*x\.parquet: No space left on device"):
        _writer(out, **options)
    assert (tmp_path / "x.parquet.partial.jsonl").exists()


def test_a_figure_onto_a_full_disk_says_so(tmp_path, monkeypatch):
    from hwprof import plotting

    monkeypatch.setattr(plotting, "write_atomically", _full_disk)
    with pytest.raises(HwprofError, match=r"cannot write .*pareto\.png: No space left on device"):
        plotting.save_figure(object(), tmp_path / "pareto.png")


def test_a_full_disk_names_only_the_files_that_hold_the_rows(tmp_path, monkeypatch):
    """The journal could not take the row either: the sentence said it was kept there and in the table,
    which was never written."""
    writer = _writer(tmp_path / "x10.parquet")
    monkeypatch.setattr(dataset_module.os, "fsync", _full_disk)
    with pytest.raises(HwprofError) as raised:
        writer.write([minimal_layer_row(0)])
    assert "none of the 1 row(s) of this run is on disk" in str(raised.value) and "kept in" not in str(raised.value)
    monkeypatch.undo()
    writer.close("failed")


def test_a_provenance_sidecar_copied_from_another_dataset_is_refused(tmp_path):
    """th2.csv.json copied over th1.csv.json: th1's rows read as measured at th2's thread count, and fit of the
    two, refused before for mixing thread counts, went ahead."""
    th1, th2 = tmp_path / "th1.csv", tmp_path / "th2.csv"
    _shard(th1, 2)
    _shard(th2, 2)
    assert len(read_dataset(th1)) == 2
    (tmp_path / "th1.csv.json").write_bytes((tmp_path / "th2.csv.json").read_bytes())
    with pytest.raises(HwprofError, match=r"th1\.csv\.json does not describe the rows of .*th1\.csv .*stale"):
        read_dataset(th1)
    with pytest.raises(HwprofError, match="stale"):
        merge_datasets([th1, th2], tmp_path / "all.csv")
