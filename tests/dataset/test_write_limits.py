"""A dataset written up to a limit: a file-size limit (ulimit -f) that the journal reaches before the table, a
journal cut mid-line beside a table that holds more rows, and a disk too full for the lock's holder name."""

import errno
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

import hwprof.files as files_module
from fakes.runs import minimal_layer_row
from hwprof.dataset import DatasetWriter, read_provenance, read_table
from hwprof.errors import HwprofError
from hwprof.files import ExclusiveLock
from hwprof.samples import RawSamples, read_samples

SAMPLES = RawSamples.uniform([0.001, 0.0011, 0.0012], 10)


def _killed_with_a_cut_journal(path: Path, rows: int) -> str:
    """A run whose table took all its `rows` (rewritten at each write) and whose journal lost the end of its last
    line, as a file-size limit leaves it, then killed: the kernel drops its flock, its lock file stays."""
    writer = DatasetWriter(path, {"run_id": uuid.uuid4().hex}, rewrite_interval_s=0)
    for index in range(rows):
        writer.write([minimal_layer_row(index)], SAMPLES)
    writer._journal.close()
    writer._lock._handle.close()
    journal = Path(f"{path}.partial.jsonl")
    text = journal.read_bytes()
    journal.write_bytes(text[: text.rstrip(b"\n").rfind(b"\n") + 40])  # 40 bytes into the last row's line
    return writer.run_id


@pytest.mark.parametrize("name", ["cut.csv", "cut.parquet"])
def test_a_resume_keeps_the_rows_the_table_holds_beyond_its_cut_journal(tmp_path, name):
    """The table held 5 rows, the journal 4 whole lines: the resume kept the journal's 4 (17 rows -> 16)."""
    out = tmp_path / name
    run_id = _killed_with_a_cut_journal(out, 5)
    with DatasetWriter(out, {"run_id": uuid.uuid4().hex}, resume=True) as writer:
        existing = writer.existing_rows()
    assert sorted(existing["layer_index"]) == [0, 1, 2, 3, 4]
    assert len(read_table(out)) == 5
    assert sorted(read_samples(out)["key"].unique()) == [f"c{index}" for index in range(5)]
    [killed] = [run for run in read_provenance(out) if run["run_id"] == run_id]
    assert killed["rows"] == 5 and killed["status"] == "interrupted"


def test_a_resume_keeps_the_journals_rows_beyond_its_table(tmp_path):
    """The other way round, as a kill leaves it: the journal holds rows the table has not taken yet."""
    out = tmp_path / "killed.parquet"
    writer = DatasetWriter(out, {"run_id": uuid.uuid4().hex}, rewrite_interval_s=3600)
    for index in range(4):
        writer.write([minimal_layer_row(index)], SAMPLES)
    writer._journal.close()
    writer._lock._handle.close()
    with DatasetWriter(out, {"run_id": uuid.uuid4().hex}, resume=True) as resumed:
        assert sorted(resumed.existing_rows()["layer_index"]) == [0, 1, 2, 3]
    assert read_samples(out)["key"].nunique() == 4


CHILD = textwrap.dedent(
    """
    import sys, uuid
    from hwprof.dataset import DatasetWriter
    from hwprof.errors import HwprofError
    from hwprof.samples import RawSamples

    writer = DatasetWriter(sys.argv[1], {"run_id": uuid.uuid4().hex}, rewrite_interval_s=3600)
    row = dict(kind="layer", model="mlp", batch_size=1, device="cpu", device_name="test cpu", op="linear",
               config="{}", latency_ms=1.0, samples=3, iterations=10)
    try:
        for index in range(1000):
            writer.write([{**row, "layer_index": index, "layer_name": str(index), "config_id": f"c{index}"}],
                         RawSamples.uniform([0.001, 0.0011, 0.0012], 10))
    except HwprofError as error:
        print(error)
    writer.close("failed")
    print(writer.rows_written)
    """
)


@pytest.mark.skipif(not hasattr(os, "setrlimit") and sys.platform != "linux", reason="needs RLIMIT_FSIZE")
def test_a_file_size_limit_reached_by_the_journal_keeps_every_row_and_the_lock_goes(tmp_path):
    """ulimit -f 10: 'hwprof failed unexpectedly (OSError: [Errno 27] File too large)', the lock left, and a
    journal cut mid-line that a resume then trusted over the table."""
    import resource

    out = tmp_path / "m4.csv"
    limit = 10 * 1024

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    ran = subprocess.run(
        [sys.executable, "-c", CHILD, str(out)], capture_output=True, text=True, preexec_fn=limited, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    message, written = ran.stdout.strip().splitlines()
    assert message.startswith(f"cannot write {out}.partial.jsonl (File too large); every row measured so far is ")
    assert message.endswith("then run the same measurement with resume=True")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m4.csv", "m4.csv.json", "m4.csv.samples.parquet"]
    assert len(read_table(out)) == int(written) > 1
    assert read_provenance(out)[0]["status"] == "failed"
    with DatasetWriter(out, {"run_id": uuid.uuid4().hex}, resume=True) as writer:
        assert len(writer.existing_rows()) == int(written)


class _FullDisk:
    """A lock file on a full disk: it opens (an empty file takes no block), and its holder's name does not go."""

    def __init__(self, handle):
        self._handle = handle

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def flush(self):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_at_the_lock_is_the_output_folder_not_a_bug(tmp_path, monkeypatch):
    """measure on a full disk: 'hwprof failed unexpectedly (OSError: [Errno 28] No space left on device at
    files.py)' and a 0-byte lock left, where run and fit say the folder is not writable."""
    opened = files_module.open_lock_file
    monkeypatch.setattr(files_module, "open_lock_file", lambda path, flags: _FullDisk(opened(path, flags)))
    out = tmp_path / "tiny" / "m.csv"
    out.parent.mkdir()
    with pytest.raises(HwprofError) as raised:
        DatasetWriter(out, {"run_id": uuid.uuid4().hex})
    assert str(raised.value) == (
        f"Output directory {out.parent} is not writable (No space left on device); choose another path."
    )
    assert list(out.parent.iterdir()) == []
    monkeypatch.undo()
    with ExclusiveLock(out, "hwprof measure"):  # nothing is left that holds it
        pass
