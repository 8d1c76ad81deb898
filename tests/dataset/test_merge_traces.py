"""merge and the power traces beside its shards (`measure --trace`, `run --trace`): a glob that matches a trace
takes it for the dataset's, and the merged dataset carries the shards' traces, so report and plot-trace find them;
a `hwprof run` file, whose command rows never have raw samples, is not warned about for lacking them."""

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes.runs import minimal_command_row, minimal_layer_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter, merge_datasets, without_sample_sidecars
from hwprof.errors import HwprofError
from hwprof.samples import RawSamples
from hwprof.traces import read_trace, trace_path_for, write_trace


def _shard(path: Path, rows: int = 2, trace: int | None = 3, samples: bool = True) -> str:
    """A dataset of one run, with a power trace of `trace` samples beside it (none where None)."""
    with DatasetWriter(path, {"run_id": uuid.uuid4().hex}) as writer:
        for index in range(rows):
            writer.write([minimal_layer_row(index)], RawSamples.uniform([0.001, 0.002], 10) if samples else None)
    if trace is not None:
        write_trace(_power(trace), trace_path_for(path), writer.run_id)
    return writer.run_id


def _power(count: int, start_s: float = 1000.0) -> list[tuple]:
    return [(start_s + i, "rapl", 10.0 + i, "load", start_s, start_s + count) for i in range(count)]


def test_a_glob_that_matches_a_trace_merges_the_datasets_beside_it(tmp_path):
    """merge shard-*.parquet, merge's own example, failed: 'shard-a.trace.parquet lacks the column(s) kind,
    model, ... so it does not look like an hwprof dataset' (report pw*.parquet and fit pw*.parquet alike)."""
    a, b = tmp_path / "shard-a.parquet", tmp_path / "shard-b.parquet"
    _shard(a)
    _shard(b, trace=None)
    given = sorted(tmp_path.glob("shard-*.parquet"))
    assert [path.name for path in given] == [
        "shard-a.parquet",
        "shard-a.parquet.samples.parquet",
        "shard-a.trace.parquet",
        "shard-b.parquet",
        "shard-b.parquet.samples.parquet",
    ]
    assert without_sample_sidecars(given) == [a, b]
    merged = CliRunner().invoke(main, ["merge", *map(str, given), "--out", str(tmp_path / "fleet.parquet")])
    assert merged.exit_code == 0, merged.output
    assert "Merged 2 shard(s)" in merged.output


def test_a_trace_given_without_its_dataset_is_not_dropped(tmp_path):
    """Only a trace beside a dataset given is the dataset's to bring; alone it stays, and is refused as before."""
    pw = tmp_path / "pw.parquet"
    _shard(pw)
    trace = Path(trace_path_for(pw))
    assert without_sample_sidecars([trace]) == [trace]
    with pytest.raises(HwprofError, match="does not look like an hwprof dataset"):
        merge_datasets([trace], tmp_path / "all.parquet")


def test_merge_carries_the_shards_traces_to_its_output(tmp_path):
    """merge pw.parquet boardb/pwb.parquet wrote no trace: the report of the merge said 'no power trace
    (fleet.trace.parquet not found; measure or run with --trace)'."""
    (tmp_path / "boardb").mkdir()
    pw, pwb, out = tmp_path / "pw.parquet", tmp_path / "boardb" / "pwb.parquet", tmp_path / "fleet.parquet"
    first, second = _shard(pw, trace=3), _shard(pwb, trace=2)
    summary = merge_datasets([pw, pwb], out)
    assert summary["trace"] == str(tmp_path / "fleet.trace.parquet")
    trace = read_trace(summary["trace"])
    assert list(trace["run_id"]) == [first] * 3 + [second] * 2
    assert [shard["power_samples"] for shard in summary["shards"]] == [3, 2]


def test_a_concurrent_runs_aside_file_brings_its_trace(tmp_path):
    """`hwprof run` wrote x.run-PID.parquet and x.run-PID.trace.parquet beside x.parquet while a measure held it."""
    x, aside = tmp_path / "x.parquet", tmp_path / "x.run-4242.parquet"
    first, second = _shard(x, trace=2), _shard(aside, trace=1)
    summary = merge_datasets(sorted(tmp_path.glob("x*.parquet")), tmp_path / "all.parquet")
    assert sorted(read_trace(summary["trace"])["run_id"]) == sorted([first, first, second])


def test_only_the_merged_runs_samples_are_carried(tmp_path):
    """A .csv and a .parquet of one stem share one trace: each shard brings its own runs' samples, once."""
    csv, parquet = tmp_path / "pw.csv", tmp_path / "pw.parquet"
    first = _shard(csv, trace=2)
    second = _shard(parquet, trace=None)
    trace = trace_path_for(csv)
    write_trace([*_power(2), *_power(3, start_s=2000.0)], trace, None)  # rewritten with both runs' samples
    frame = read_trace(trace)
    frame["run_id"] = [first] * 2 + [second] * 3
    write_trace(frame.itertuples(index=False, name=None), trace)
    summary = merge_datasets([csv], tmp_path / "only-csv.parquet")
    assert list(read_trace(summary["trace"])["run_id"]) == [first] * 2
    summary = merge_datasets([csv, parquet], tmp_path / "both.parquet")
    assert sorted(read_trace(summary["trace"])["run_id"]) == sorted([first] * 2 + [second] * 3)


def test_a_trace_from_before_run_ids_is_its_one_runs(tmp_path):
    old = tmp_path / "old.parquet"
    run_id = _shard(old, trace=None)
    path = Path(trace_path_for(old))
    write_trace(_power(2), path)
    summary = merge_datasets([old], tmp_path / "new.parquet")
    assert list(read_trace(summary["trace"])["run_id"]) == [run_id] * 2


def test_no_shard_trace_writes_no_trace(tmp_path):
    a = tmp_path / "a.parquet"
    _shard(a, trace=None)
    summary = merge_datasets([a], tmp_path / "all.parquet")
    assert summary["trace"] is None and not (tmp_path / "all.trace.parquet").exists()


def test_the_outputs_trace_is_never_an_inputs_nor_replaced_unasked(tmp_path):
    pw = tmp_path / "pw.parquet"
    _shard(pw)
    with pytest.raises(HwprofError, match=r"power trace over .*pw\.trace\.parquet, the trace of an input"):
        merge_datasets([pw], tmp_path / "pw.csv")
    Path(tmp_path / "all.trace.parquet").write_bytes(b"")
    with pytest.raises(HwprofError, match=r"all\.trace\.parquet, where the power traces of .* already exists"):
        merge_datasets([pw], tmp_path / "all.parquet")
    summary = merge_datasets([pw], tmp_path / "all.parquet", force=True)
    assert len(read_trace(summary["trace"])) == 3


def test_a_run_file_is_not_warned_about_raw_samples_its_rows_never_have(tmp_path):
    runs, layers = tmp_path / "runs.parquet", tmp_path / "layers.parquet"
    command = minimal_command_row(["sleep", "1"])
    with DatasetWriter(runs, {"run_id": uuid.uuid4().hex}, append=True, holder="hwprof run") as writer:
        writer.write([command])
    _shard(layers, trace=None, samples=False)
    warnings = merge_datasets([runs, layers], tmp_path / "all.parquet")["warnings"]
    assert [warning for warning in warnings if "raw samples" in warning] == [
        f"{layers} has no raw samples (layers.parquet.samples.parquet); hwprof compare cannot test its rows for "
        "significance."
    ]
