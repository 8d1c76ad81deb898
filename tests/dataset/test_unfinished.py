"""Unfinished datasets: a second signal cannot leave one half closed, and a killed run's dataset is read
with a note, shown as interrupted, and merged only when asked to leave it out."""

import json
import signal
import warnings

import pytest
from test_dataset import make_provenance, make_row

from hwprof import dataset
from hwprof.dataset import DatasetWriter, merge_datasets, read_dataset, read_provenance, writer_of
from hwprof.errors import HwprofError, UnfinishedDatasetWarning


def leftovers(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name.endswith((".lock", ".partial.jsonl")))


def signal_in_write_table(monkeypatch, signum=signal.SIGINT):
    """The next final write gets a signal half way, as a second Ctrl-C pressed while a run closes."""
    real = dataset.write_table

    def write_table(*args, **kwargs):
        monkeypatch.setattr(dataset, "write_table", real)
        signal.raise_signal(signum)
        real(*args, **kwargs)

    monkeypatch.setattr(dataset, "write_table", write_table)


def test_a_second_ctrl_c_while_an_interrupted_run_closes_leaves_it_finished(tmp_path, monkeypatch):
    path = tmp_path / "dd.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    writer.write([make_row(0)])
    writer.write([make_row(1)])
    signal_in_write_table(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt  # the first Ctrl-C
        finally:
            writer.close()
    assert read_dataset(path)["layer_index"].tolist() == [0, 1]
    assert read_provenance(path)[0]["status"] == "interrupted"
    assert leftovers(path) == [] and writer_of(path) is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_a_ctrl_c_during_a_clean_close_lets_it_finish_then_stops(tmp_path, monkeypatch):
    path = tmp_path / "dd.parquet"
    writer = DatasetWriter(path, make_provenance())
    writer.write([make_row(0)])
    signal_in_write_table(monkeypatch)
    with pytest.raises(KeyboardInterrupt) as raised:
        writer.close()
    assert raised.value.exit_code == 130
    assert read_provenance(path)[0]["status"] == "complete" and leftovers(path) == []


def killed_run(path, table_rows=13, journal_rows=5):
    """A dataset whose writer died (kill -9) after `table_rows` reached the table and `journal_rows` more
    only its journal: the journal and the lock file stay, the lock itself goes with the process."""
    provenance = make_provenance(argv=["/venv/bin/hwprof", "measure", "mlp", "--out", str(path)])
    writer = DatasetWriter(path, provenance, rewrite_interval_s=3600)
    writer.write([make_row(index) for index in range(table_rows)])
    for index in range(table_rows, table_rows + journal_rows):
        writer.write([make_row(index)])
    writer._journal.close()
    writer._lock._handle.close()  # the kernel drops the flock of a dead process; its lock file stays
    return provenance


def test_a_killed_runs_dataset_is_read_as_its_table_with_a_note_on_the_journal(tmp_path):
    path = tmp_path / "dd.parquet"
    killed_run(path)
    with pytest.warns(UnfinishedDatasetWarning) as caught:
        assert len(read_dataset(path)) == 13  # the journal's rows are not folded in by a read
    note = str(caught[0].message)
    assert len(caught) == 1 and note.startswith(f"{path} is from a run that did not finish")
    assert "5 more row(s) are in its journal dd.parquet.partial.jsonl" in note
    assert f"`hwprof measure mlp --out {path} --resume`" in note
    assert read_provenance(path)[0]["status"] == "interrupted"  # not "running": nothing runs it
    assert json.loads((tmp_path / "dd.parquet.json").read_text())["runs"][0]["status"] == "running"  # as written


def test_a_dataset_being_written_reads_as_running_with_a_note(tmp_path):
    path = tmp_path / "dd.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    writer.write([make_row(0)])
    writer.write([make_row(1)])
    assert writer_of(path).startswith("hwprof measure (pid ")
    with pytest.warns(UnfinishedDatasetWarning, match=r"is still being written by hwprof measure \(pid"):
        assert len(read_dataset(path)) == 1 and read_provenance(path)[0]["status"] == "running"
    writer.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finished dataset reads without a note
        read_dataset(path)
    assert writer_of(path) is None


def finished(path, device_name):
    with DatasetWriter(path, make_provenance()) as writer:
        writer.write([make_row(0, device_name=device_name)])


def test_merge_refuses_a_killed_shard_unless_told_to_leave_it_out(tmp_path):
    finished(tmp_path / "board-a.parquet", "CPU A")
    killed = tmp_path / "board-b.parquet"
    killed_run(killed)
    shards = [tmp_path / "board-a.parquet", killed]
    with pytest.raises(HwprofError, match="did not finish.*skip_unfinished=True"):
        merge_datasets(shards, tmp_path / "fleet.parquet")
    summary = merge_datasets(shards, tmp_path / "fleet.parquet", skip_unfinished=True)
    assert summary["rows"] == 1 and [shard["path"] for shard in summary["shards"]] == [str(shards[0])]
    assert summary["skipped"][0]["path"] == str(killed)
    assert any(str(killed) in warning and "left out" in warning for warning in summary["warnings"])
    assert read_dataset(tmp_path / "fleet.parquet")["device_name"].tolist() == ["CPU A"]


def test_a_shard_that_is_still_being_written_is_never_merged(tmp_path):
    finished(tmp_path / "board-a.parquet", "CPU A")
    live = tmp_path / "board-b.parquet"
    finished(live, "CPU B")
    writer = DatasetWriter(live, make_provenance(), resume=True)  # resuming: no journal yet, but writing
    shards = [tmp_path / "board-a.parquet", live]
    with pytest.raises(HwprofError, match="still being written by hwprof measure.*wait for it to finish"):
        merge_datasets(shards, tmp_path / "fleet.parquet")
    summary = merge_datasets(shards, tmp_path / "fleet.parquet", skip_unfinished=True)
    assert [entry["path"] for entry in summary["skipped"]] == [str(live)]
    with pytest.raises(HwprofError, match="None of the shards has finished"):
        merge_datasets([live], tmp_path / "alone.parquet", skip_unfinished=True)
    writer.close()


def test_a_merged_run_that_was_killed_is_recorded_as_interrupted(tmp_path):
    path = tmp_path / "board-b.parquet"
    killed_run(path)
    (tmp_path / "board-b.parquet.partial.jsonl").unlink()  # its journal removed by hand: the table is all
    summary = merge_datasets([path], tmp_path / "fleet.parquet")
    assert [run["status"] for run in summary["runs"]] == ["interrupted"]
    assert json.loads((tmp_path / "fleet.parquet.json").read_text())["runs"][0]["status"] == "interrupted"


def test_a_killed_run_whose_table_holds_every_row_reads_without_a_note(tmp_path):
    path = tmp_path / "dd.parquet"
    killed_run(path, journal_rows=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfinishedDatasetWarning)  # not '0 more row(s) ... recover them'
        assert len(read_dataset(path)) == 13


def test_a_dataset_whose_run_has_written_no_row_yet_is_said_to_be_in_the_writing(tmp_path):
    """A notebook reading the dataset of a measure running in a thread (or another kernel) before its first group
    is in: not a wrong path, but a run that will write it."""
    path = tmp_path / "early.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    with pytest.raises(HwprofError, match=r"does not exist yet: hwprof measure \(pid \d+\) is writing it"):
        read_dataset(path)
    writer.close()
