"""measure --processes, interrupted while the workers' rows are being combined into OUT, then resumed: every
combined row reaches OUT, however many sequence lengths share a model and batch size."""

import pytest

from hwprof.dataset import DatasetWriter, read_dataset
from hwprof.measuring import processes, session
from hwprof.measuring.session import MeasureOptions
from hwprof.progress import Notes


def _network_row(seq_len: int) -> dict:
    return {
        "kind": "network",
        "model": "hf:bert",
        "batch_size": 1,
        "seq_len": seq_len,
        "device": "cpu",
        "device_name": "test cpu",
        "layer_index": -1,
        "layer_name": "hf:bert",
        "op": "network",
        "config": "{}",
        "latency_ms": seq_len / 10,
        "samples": 20,
        "iterations": 10,
        "processes": 2,
    }


@pytest.fixture
def combined_workers(monkeypatch):
    """Workers that 'measured' hf:bert at two sequence lengths: their folder, and the rows combined from it."""

    def run_workers(models, options, folder, progress):
        folder.mkdir(exist_ok=True)
        return []

    def combine_shards(shards, precision):
        return processes.Combined([_network_row(16), _network_row(64)], [{"run_id": "worker"}], {}, None)

    monkeypatch.setattr(processes, "run_workers", run_workers)
    monkeypatch.setattr(processes, "combine_shards", combine_shards)


def _measure(out, resume: bool, notes: list):
    options = MeasureOptions(processes=2, sweep_share=0, seq_lens=(16, 64), layers=False)
    return session._measure_in_processes(
        ["hf:bert"], ["hf:bert"], options, str(out), resume, ["hwprof"], Notes(notes.append)
    )


def test_ctrl_c_while_combining_then_resume_keeps_every_sequence_length(tmp_path, monkeypatch, combined_workers):
    out = tmp_path / "e7.parquet"
    write = DatasetWriter.write

    def interrupted_after_one(self, rows, samples=None):
        write(self, rows, samples)
        raise KeyboardInterrupt

    monkeypatch.setattr(DatasetWriter, "write", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        _measure(out, False, [])
    assert len(read_dataset(out)) == 1
    monkeypatch.setattr(DatasetWriter, "write", write)
    _measure(out, True, [])
    assert sorted(read_dataset(out)["seq_len"]) == [16, 64]
    notes = []
    _measure(out, True, notes)
    assert any("every row is already measured" in note for note in notes)
