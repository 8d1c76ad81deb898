"""DatasetWriter and read_dataset: schema, durability, resume and clear refusals."""

import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hwprof import dataset, files
from hwprof.dataset import DatasetWriter, read_dataset, read_provenance, read_table
from hwprof.errors import HwprofError
from hwprof.schema import ALL_COLUMNS, BOOL_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, SCHEMA_VERSION


def make_row(index=0, **overrides):
    row = {
        "kind": "layer",
        "model": "mlp",
        "batch_size": 8,
        "device": "cpu",
        "device_name": "Test CPU",
        "layer_index": index,
        "layer_name": str(index),
        "op": "linear",
        "config": json.dumps({"in_features": 4, "input_shapes": [[8, 4]], "note": 'a, "quoted" text'}, sort_keys=True),
        "flops": 2**40 + index,
        "params": 20,
        "input_bytes": 128,
        "output_bytes": 128,
        "weight_bytes": 80,
        "latency_ms": 0.125 + index,
        "latency_ms_ci_low": 0.12,
        "latency_ms_ci_high": 0.13,
        "latency_ms_std": 0.004,
        "samples": 15,
        "iterations": 1000,
        "stable": index % 2 == 0,
        "config_id": f"cfg{index}",
    }
    row.update(overrides)
    return row


def make_provenance(**extra):
    return {"run_id": uuid.uuid4().hex, "schema_version": SCHEMA_VERSION, "host": "testhost", **extra}


@pytest.mark.parametrize("name", ["out.parquet", "out.CSV"])
def test_written_file_has_schema_columns_in_order_and_types(tmp_path, name):
    path = tmp_path / name
    provenance = make_provenance()
    with DatasetWriter(path, provenance) as writer:
        writer.write([make_row(0), make_row(1, stable=None)])

    frame = read_dataset(path)
    assert list(frame.columns) == list(ALL_COLUMNS)
    for column in INT_COLUMNS:
        assert str(frame[column].dtype) == "Int64", column
    for column in FLOAT_COLUMNS:
        assert frame[column].dtype == "float64", column
    for column in BOOL_COLUMNS:
        assert str(frame[column].dtype) == "boolean", column
    assert frame["flops"].tolist() == [2**40, 2**40 + 1]  # no float round trip for big counts
    assert frame["layer_name"].tolist() == ["0", "1"]  # digit names stay text, also in CSV
    assert frame["config"][0] == make_row(0)["config"]
    assert frame["stable"][0] and pd.isna(frame["stable"][1])
    assert frame[["power_w", "idle_power_w", "energy_mj", "power_source"]].isna().all().all()
    assert set(frame["run_id"]) == {provenance["run_id"]}

    runs = read_provenance(path)
    assert [run["run_id"] for run in runs] == [provenance["run_id"]]
    assert runs[0]["status"] == "complete" and runs[0]["rows"] == 2
    sidecar = json.loads((tmp_path / (name + ".json")).read_text())
    assert sidecar == {"schema_version": SCHEMA_VERSION, "runs": runs}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, name + ".json"])


def test_parquet_carries_provenance_and_arrow_types(tmp_path):
    path = tmp_path / "out.parquet"
    provenance = make_provenance(device_name="Board A")
    with DatasetWriter(path, provenance) as writer:
        writer.write([make_row(0)])
    (tmp_path / "out.parquet.json").unlink()  # the metadata alone must be enough

    schema = pq.read_schema(path)
    assert str(schema.field("flops").type) == "int64"
    assert str(schema.field("latency_ms").type) == "double"
    assert str(schema.field("stable").type) == "bool"
    document = json.loads(schema.metadata[b"hwprof"])
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["runs"][0]["device_name"] == "Board A"
    assert read_provenance(path) == document["runs"]


def test_files_get_ordinary_permissions(tmp_path):
    path = tmp_path / "out.parquet"
    with DatasetWriter(path, make_provenance()) as writer:
        writer.write([make_row()])
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_rows_outside_the_schema_are_a_programming_error(tmp_path):
    writer = DatasetWriter(tmp_path / "out.parquet", make_provenance())
    with pytest.raises(ValueError, match="not in hwprof.schema.*latency_us"):
        writer.write([make_row(latency_us=3.0)])
    with pytest.raises(ValueError, match="latency_ms holds str 'fast' where hwprof writes numbers"):
        writer.write([make_row(latency_ms="fast")])
    with pytest.raises(ValueError, match="config holds dict"):
        writer.write([make_row(config={"in_features": 4})])
    with pytest.raises(ValueError, match="stable holds int"):
        writer.write([make_row(stable=1)])
    with pytest.raises(ValueError, match="batch_size holds fractions"):
        writer.write([make_row(batch_size=1.5)])
    with pytest.raises(ValueError, match="run_id"):
        writer.write([make_row(run_id="someone-else")])
    writer.close()
    assert not (tmp_path / "out.parquet").exists()  # nothing was measured, nothing written


def test_numpy_scalars_and_nan_are_accepted(tmp_path):
    path = tmp_path / "out.parquet"
    with DatasetWriter(path, make_provenance()) as writer:
        writer.write(
            [
                make_row(
                    flops=np.int64(7),
                    latency_ms=np.float32(0.5),
                    stable=np.bool_(True),
                    latency_ms_std=float("nan"),
                    power_w=pd.NA,
                    samples=12.0,
                )
            ]
        )
    row = read_dataset(path).iloc[0]
    assert (row["flops"], row["latency_ms"], row["stable"], row["samples"]) == (7, 0.5, True, 12)
    assert pd.isna(row["latency_ms_std"]) and pd.isna(row["power_w"])


def test_write_is_durable_before_close_and_rewrites_are_throttled(tmp_path):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    writer.write([make_row(0)])  # the first write brings the table up at once
    writer.write([make_row(1), make_row(2)])  # throttled: journal only
    assert len(read_table(path)) == 1
    journal = (tmp_path / "out.parquet.partial.jsonl").read_text().splitlines()
    assert len(journal) == 1 + 3  # provenance line + one line per row
    writer.close()
    assert len(read_table(path)) == 3
    assert not (tmp_path / "out.parquet.partial.jsonl").exists()


@pytest.mark.parametrize("name", ["out.parquet", "out.csv"])
def test_resume_after_crash_recovers_journal_rows_including_truncated_last_line(tmp_path, name):
    path = tmp_path / name
    first = make_provenance()
    writer = DatasetWriter(path, first, rewrite_interval_s=3600)
    writer.write([make_row(0)])
    writer.write([make_row(1)])
    writer.write([make_row(2)])
    writer._journal.close()  # the process dies here: no close(), the table holds one row
    writer._lock.release()  # and its lock goes with it
    with open(tmp_path / (name + ".partial.jsonl"), "a") as journal:
        journal.write('{"row": {"kind": "lay')  # killed in the middle of a line
    assert len(read_table(path)) == 1

    with pytest.raises(HwprofError, match="resume=True"):
        DatasetWriter(path, make_provenance())

    second = make_provenance()
    resumed = DatasetWriter(path, second, resume=True)
    existing = resumed.existing_rows()
    assert existing["layer_index"].tolist() == [0, 1, 2]
    assert set(existing["run_id"]) == {first["run_id"]}
    assert not (tmp_path / (name + ".partial.jsonl")).exists()  # folded into the table at once
    assert len(read_table(path)) == 3
    resumed.write([make_row(3)])
    resumed.close()

    frame = read_dataset(path)
    assert frame["layer_index"].tolist() == [0, 1, 2, 3]
    assert frame["run_id"].tolist() == [first["run_id"]] * 3 + [second["run_id"]]
    runs = read_provenance(path)
    assert [run["run_id"] for run in runs] == [first["run_id"], second["run_id"]]
    assert runs[0]["status"] == "interrupted" and runs[0]["rows"] == 3
    assert runs[1]["status"] == "complete" and runs[1]["resumed_from"] == first["run_id"]


def test_killed_process_keeps_everything_written(tmp_path):
    path = tmp_path / "out.parquet"
    script = f"""
import os, signal, sys
sys.path.insert(0, {os.path.dirname(__file__)!r})
from test_dataset import make_row, make_provenance
from hwprof.dataset import DatasetWriter
writer = DatasetWriter({str(path)!r}, make_provenance(), rewrite_interval_s=3600)
for index in range(5):
    writer.write([make_row(index)])
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr
    writer = DatasetWriter(path, make_provenance(), resume=True)
    assert writer.existing_rows()["layer_index"].tolist() == [0, 1, 2, 3, 4]
    writer.close()


def test_keyboard_interrupt_keeps_measured_rows(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        with DatasetWriter(path, make_provenance(), rewrite_interval_s=3600) as writer:
            writer.write([make_row(0)])
            writer.write([make_row(1)])
            raise KeyboardInterrupt
    assert read_dataset(path)["layer_index"].tolist() == [0, 1]
    assert read_provenance(path)[0]["status"] == "interrupted"
    assert not (tmp_path / "out.parquet.partial.jsonl").exists()


def test_plain_close_in_handler_records_why_the_run_ended(tmp_path):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance())
    try:
        writer.write([make_row(0)])
        raise RuntimeError("a bug")
    except RuntimeError:
        writer.close()
    writer.close()  # a second close is harmless
    assert read_provenance(path)[0]["status"] == "failed"
    with pytest.raises(ValueError, match="closed"):
        writer.write([make_row(1)])


def test_failed_rewrite_leaves_previous_file_whole_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=0)
    writer.write([make_row(0)])

    def write_half_and_fail(table, where, **kwargs):
        with open(where, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", write_half_and_fail)
    with pytest.raises(HwprofError, match="No space left on device"):  # one sentence, not the OSError
        writer.write([make_row(1)])
    assert read_dataset(path)["layer_index"].tolist() == [0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.parquet",
        "out.parquet.json",
        "out.parquet.lock",  # held while the run goes on
        "out.parquet.partial.jsonl",
    ]
    monkeypatch.undo()
    writer.close()  # the row that failed to reach the table was kept in memory and journal
    assert read_dataset(path)["layer_index"].tolist() == [0, 1]


def test_existing_output_is_refused_without_resume(tmp_path):
    path = tmp_path / "out.parquet"
    with DatasetWriter(path, make_provenance()) as writer:
        writer.write([make_row()])
    with pytest.raises(HwprofError, match=r"already exists; pass resume=True .* or choose another path"):
        DatasetWriter(path, make_provenance())
    assert len(read_table(path)) == 1


def test_raw_samples_left_by_a_removed_dataset_are_not_written_over(tmp_path):
    from hwprof.samples import samples_path

    path = tmp_path / "out.parquet"
    samples_path(path).write_bytes(b"an earlier run's samples")
    with pytest.raises(HwprofError, match=r"holds the raw samples of an earlier out.parquet, which is gone; move it"):
        DatasetWriter(path, make_provenance())
    assert samples_path(path).read_bytes() == b"an earlier run's samples" and not path.exists()


def test_resume_without_output_starts_fresh_and_rejects_reused_run_id(tmp_path):
    path = tmp_path / "out.csv"
    provenance = make_provenance()
    with DatasetWriter(path, provenance, resume=True) as writer:
        assert list(writer.existing_rows().columns) == list(ALL_COLUMNS)
        assert writer.existing_rows().empty
        writer.write([make_row()])
    assert "resumed_from" not in read_provenance(path)[0]
    with pytest.raises(ValueError, match="fresh"):
        DatasetWriter(path, provenance, resume=True)


def test_unwritable_output_directory_is_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HwprofError, match=r"^Output directory .*file is not a directory; choose another path\.$"):
        DatasetWriter(blocker / "out.parquet", make_provenance())
    with pytest.raises(HwprofError, match=r"^Output directory .*missing does not exist"):
        DatasetWriter(tmp_path / "missing" / "out.parquet", make_provenance())
    with pytest.raises(HwprofError, match="is a directory"):
        DatasetWriter(tmp_path, make_provenance())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_read_only_directory_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(HwprofError, match=r"^Output directory .*locked is not writable \(.*\); choose"):
            DatasetWriter(locked / "out.parquet", make_provenance())
    finally:
        locked.chmod(0o700)


def test_unwritable_directory_check_uses_a_real_write(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "TemporaryFile", refuse)
    with pytest.raises(HwprofError, match=r"is not writable \(Permission denied\); choose another path\.$"):
        DatasetWriter(tmp_path / "out.parquet", make_provenance())


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs a folder that takes no new files")
def test_a_folder_that_takes_no_new_files_is_not_called_missing():
    with pytest.raises(HwprofError, match=r"^Output directory /proc is not writable \(it takes no new files\); choose"):
        DatasetWriter("/proc/out.parquet", make_provenance())


def test_read_dataset_explains_what_is_wrong(tmp_path):
    foreign = tmp_path / "foreign.csv"
    pd.DataFrame({"model": ["a"], "batch_size": [1], "latency_ms": [2.0]}).to_csv(foreign, index=False)
    with pytest.raises(HwprofError, match=r"lacks the column\(s\) kind, device, .* does not look like an hwprof"):
        read_dataset(foreign)
    assert read_table(foreign)["latency_ms"].tolist() == [2.0]  # a plain read still works

    empty = tmp_path / "empty.parquet"
    dataset.write_table(empty, dataset.empty_frame(), [])
    with pytest.raises(HwprofError, match="has no rows"):
        read_dataset(empty)

    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(HwprofError, match=r"^Could not read .*garbage.parquet as a Parquet file"):
        read_dataset(garbage)
    with pytest.raises(HwprofError, match="does not exist"):
        read_dataset(tmp_path / "nothing.parquet")
    with pytest.raises(HwprofError, match="No dataset"):
        read_dataset([])


def test_read_dataset_refuses_newer_schema_and_concatenates_files(tmp_path):
    first, second = tmp_path / "a.parquet", tmp_path / "b.csv"
    for path, index in ((first, 0), (second, 1)):
        with DatasetWriter(path, make_provenance()) as writer:
            writer.write([make_row(index)])
    assert read_dataset([first, second])["layer_index"].tolist() == [0, 1]

    newer = tmp_path / "newer.parquet"
    dataset.write_table(newer, read_dataset(first), [])
    document = {"schema_version": SCHEMA_VERSION + 1, "runs": []}
    table = pq.read_table(newer)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"hwprof": json.dumps(document)}), newer)
    with pytest.raises(HwprofError, match="upgrade hwprof"):
        read_dataset(newer)


def test_a_full_disk_is_one_sentence_and_resume_recovers_every_row(tmp_path, monkeypatch):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=0)
    writer.write([make_row(0)])
    real_write_table = pq.write_table

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    with pytest.raises(HwprofError, match=r"No space left on device.*kept in .*resume=True"):
        writer.write([make_row(1)])
    with pytest.raises(HwprofError, match="No space left on device"):
        writer.close()
    monkeypatch.setattr(pq, "write_table", real_write_table)
    resumed = DatasetWriter(path, make_provenance(), resume=True)
    assert sorted(resumed.existing_rows()["layer_index"]) == [0, 1]  # both rows, from the journal
    resumed.close()


def test_a_journal_that_cannot_be_read_back_is_one_sentence(tmp_path):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    writer.write([make_row(0)])
    writer._journal.close()  # killed
    writer._lock.release()
    journal = tmp_path / "out.parquet.partial.jsonl"
    journal.write_text(journal.read_text() + '{"row": {"no_such_column": 1}}\n{"row": {}}\n')
    with pytest.raises(HwprofError, match="cannot be read back .* move it away"):
        DatasetWriter(path, make_provenance(), resume=True)


@pytest.mark.parametrize(
    "record",
    ['{"neither": 1}', '{"samples": {"key": "a"}}', '{"row": [1, 2]}', '["a list"]'],
)
def test_a_journal_line_that_is_json_but_no_record_is_one_sentence(tmp_path, record):
    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance(), rewrite_interval_s=3600)
    writer.write([make_row(0)])
    writer._journal.close()  # killed
    writer._lock.release()
    journal = tmp_path / "out.parquet.partial.jsonl"
    journal.write_text(journal.read_text() + record + "\n" + json.dumps({"row": make_row(1)}) + "\n")
    with pytest.raises(HwprofError, match="damaged at line .* remove that line"):
        DatasetWriter(path, make_provenance(), resume=True)


def test_a_median_from_too_few_samples_is_read_as_unbounded_whatever_its_ci_columns_hold(tmp_path):
    path = tmp_path / "few.parquet"
    rows = [
        make_row(0),  # 15 samples: bounded
        make_row(1, samples=3, latency_ms_ci_low=None, latency_ms_ci_high=None),  # as hwprof writes it now
        make_row(2, samples=3, latency_ms_ci_low=2.1, latency_ms_ci_high=2.2),  # their range, as written before
        make_row(3, samples=3, latency_ms_ci_low=3.0, latency_ms_ci_high=3.3, processes=3),  # between processes
        make_row(4, samples=24, latency_ms_ci_low=None, latency_ms_ci_high=None, processes=3),  # no typical bound
    ]
    with DatasetWriter(path, make_provenance()) as writer:
        writer.write(rows)
    frame = read_dataset(path)
    assert dataset.latency_interval_unbounded(frame).tolist() == [False, True, True, False, True]
    unknown = frame.assign(samples=pd.NA, latency_ms_ci_low=np.nan)  # a dataset from elsewhere that does not say
    assert not dataset.latency_interval_unbounded(unknown).any()
