"""A signal held while a dataset closes goes to the handler that was in place: a host program that ignores
SIGTERM or handles it itself gets its finished dataset back, and hwprof's own handlers still stop."""

import signal

import pytest
from test_dataset import make_provenance, make_row

from hwprof import dataset
from hwprof.dataset import DatasetWriter, read_provenance
from hwprof.interrupts import Interrupted, sigterm_interrupts


@pytest.fixture
def closing_with_sigterm(tmp_path, monkeypatch):
    """A writer whose final write gets a SIGTERM half way, as a scheduler's arriving while a run closes."""
    real = dataset.write_table

    def write_table(*args, **kwargs):
        monkeypatch.setattr(dataset, "write_table", real)
        signal.raise_signal(signal.SIGTERM)
        real(*args, **kwargs)

    path = tmp_path / "sg.parquet"
    writer = DatasetWriter(path, make_provenance())
    writer.write([make_row(0)])
    monkeypatch.setattr(dataset, "write_table", write_table)
    before = signal.getsignal(signal.SIGTERM)
    yield path, writer
    signal.signal(signal.SIGTERM, before)


def test_a_host_that_ignores_sigterm_gets_its_closed_dataset(closing_with_sigterm):
    path, writer = closing_with_sigterm
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    writer.close()
    assert read_provenance(path)[0]["status"] == "complete"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_a_host_handler_is_called_once_the_dataset_is_closed(closing_with_sigterm):
    path, writer = closing_with_sigterm
    got = []
    signal.signal(signal.SIGTERM, lambda signum, frame: got.append((signum, read_provenance(path)[0]["status"])))
    writer.close()
    assert got == [(signal.SIGTERM, "complete")]


def test_hwprofs_own_sigterm_handler_still_stops_after_the_close(closing_with_sigterm):
    path, writer = closing_with_sigterm
    with sigterm_interrupts(), pytest.raises(Interrupted) as raised:
        writer.close()
    assert raised.value.exit_code == 143
    assert read_provenance(path)[0]["status"] == "complete"
