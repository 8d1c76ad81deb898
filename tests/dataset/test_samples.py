"""The raw-samples sidecar: written with the rows, linked to them, carried by resume and merge."""

import statistics

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fakes.runs import synthetic_row, write_run
from hwprof.cli import main
from hwprof.dataset import DatasetWriter, merge_datasets, read_dataset
from hwprof.errors import HwprofError
from hwprof.samples import RawSamples, grouped, read_samples, row_key, samples_path

FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0", "--quiet"]


def linked(path) -> dict:
    """(row index) -> that row's samples, for every row of the dataset at `path` (KeyError if one lacks them)."""
    found = grouped(read_samples(path))
    return {i: found[(row["run_id"], row_key(row))] for i, row in enumerate(read_dataset(path).to_dict("records"))}


def make_provenance(run_id):
    return {"run_id": run_id, "schema_version": 1}


def test_every_row_links_to_its_samples_and_their_median_is_the_row(tmp_path):
    path = write_run(tmp_path / "run.parquet", samples=15)
    frame = read_dataset(path)
    for index, raw in linked(path).items():
        assert len(raw.seconds_per_call) == 15 and set(raw.loops) == {10}
        assert statistics.median(raw.seconds_per_call) * 1e3 == pytest.approx(frame["latency_ms"][index])
    table = pd.read_parquet(samples_path(path))
    assert list(table.columns) == ["run_id", "key", "sample", "seconds_per_call", "loops", "process"]
    assert table["process"].isna().all()  # one process measured it


def test_resume_after_a_crash_keeps_the_samples_and_reuses_them_for_shared_configurations(tmp_path):
    def make_row(index, config_id, model="net"):
        return synthetic_row(model, index, [0.001] * 3) | {"config_id": config_id}

    path = tmp_path / "out.parquet"
    writer = DatasetWriter(path, make_provenance("first"), rewrite_interval_s=3600)
    writer.write([make_row(0, "shared")], RawSamples.uniform([1.0, 2.0, 3.0], 5))
    writer.write([make_row(1, "alone")], RawSamples.uniform([4.0, 5.0], 7))
    writer._journal.close()  # the process dies here: the table and its samples hold the first row only
    writer._lock.release()
    assert set(read_samples(path)["key"]) == {"shared"}

    resumed = DatasetWriter(path, make_provenance("second"), resume=True)
    assert set(read_samples(path)["key"]) == {"shared", "alone"}  # recovered from the journal at once
    # a layer of the same configuration in another model: the measurement (and its samples) is reused
    resumed.write([make_row(2, "shared", model="other")])
    resumed.write([make_row(3, "new")], RawSamples.uniform([6.0] * 6, 9))
    resumed.close()

    samples = linked(path)
    assert samples[0].seconds_per_call == samples[2].seconds_per_call == (1.0, 2.0, 3.0)
    assert samples[1] == RawSamples((4.0, 5.0), (7, 7)) and samples[3].loops == (9,) * 6
    assert sorted(set(read_samples(path)["run_id"])) == ["first", "second"]


def test_measure_interrupted_then_resumed_has_samples_for_every_row(tmp_path, monkeypatch):
    import hwprof.measuring.runner

    out = tmp_path / "m.parquet"
    real_measure = hwprof.measuring.runner.Runner.measure

    def interrupted_after_two(self, items, on_done=None):
        finished = []

        def count(result):
            on_done(result)
            finished.append(result)
            if len(finished) == 2:
                raise KeyboardInterrupt

        return real_measure(self, items, count)

    monkeypatch.setattr(hwprof.measuring.runner.Runner, "measure", interrupted_after_two)
    assert CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST]).exit_code == 130
    kept = linked(out)
    assert len(kept) >= 2
    monkeypatch.setattr(hwprof.measuring.runner.Runner, "measure", real_measure)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--resume", *FAST])
    assert result.exit_code == 0, result.output

    frame = read_dataset(out)
    samples = linked(out)
    assert len(samples) == len(frame) > len(kept)
    for index, raw in samples.items():
        assert len(raw.seconds_per_call) == frame["samples"][index]
        assert set(raw.loops) == {frame["iterations"][index]}
        assert statistics.median(raw.seconds_per_call) * 1e3 == pytest.approx(frame["latency_ms"][index])


def test_merge_carries_the_samples_of_every_shard(tmp_path):
    a = write_run(tmp_path / "a.parquet", seed=1, device_name="Board A")
    b = write_run(tmp_path / "b.csv", seed=2, device_name="Board B")
    bare = write_run(tmp_path / "bare.parquet", seed=3, device_name="Board C", with_samples=False)
    summary = merge_datasets([a, b, bare], tmp_path / "fleet.parquet")
    assert [shard["raw_samples"] for shard in summary["shards"]] == [True, True, False]
    assert any("bare.parquet has no raw samples" in warning for warning in summary["warnings"])

    merged = grouped(read_samples(tmp_path / "fleet.parquet"))
    for shard in (a, b):
        assert all(merged[key] == raw for key, raw in grouped(read_samples(shard)).items())
    assert len(merged) == len(grouped(read_samples(a))) + len(grouped(read_samples(b)))

    # `hwprof merge shards/*.parquet` also matches the sidecars: those of given shards are not shards
    again = merge_datasets([a, samples_path(a), b], tmp_path / "again.parquet")
    assert [shard["path"] for shard in again["shards"]] == [str(a), str(b)]
    with pytest.raises(HwprofError, match="holds the raw samples of a.parquet, not a dataset; give .*a.parquet"):
        merge_datasets([samples_path(a), b], tmp_path / "third.parquet")

    merge_datasets([bare], tmp_path / "fleet.parquet", force=True)  # no shard has samples: none left behind
    assert not samples_path(tmp_path / "fleet.parquet").exists()


def test_the_worker_of_each_sample_survives_resume_and_merge_and_older_sidecars_read_without_it(tmp_path):
    pooled = RawSamples((0.001, 0.002, 0.003), (10, 10, 4), (1, 1, 2))
    path = tmp_path / "combined.parquet"
    with DatasetWriter(path, make_provenance("first")) as writer:
        writer.write([synthetic_row("net", -1, [0.002] * 3)], pooled)
    with DatasetWriter(path, make_provenance("second"), resume=True) as writer:
        writer.write([synthetic_row("other", -1, [0.002] * 3)], RawSamples.uniform([0.002] * 3, 5))
    merge_datasets([path], tmp_path / "merged.parquet")
    for dataset in (path, tmp_path / "merged.parquet"):
        found = grouped(read_samples(dataset))
        assert found[("first", "network:1:net")] == pooled and found[("second", "network:1:other")].process is None

    older = pq.read_table(samples_path(path)).drop_columns(["process"])  # as hwprof wrote it before
    pq.write_table(older, samples_path(path))
    assert read_samples(path)["process"].isna().all()
    assert grouped(read_samples(path))[("first", "network:1:net")] == RawSamples(pooled.seconds_per_call, pooled.loops)


def test_the_worker_of_each_sample_survives_a_crash_recovered_from_the_journal(tmp_path):
    """A combine killed outright (kill -9) leaves its rows in the journal; they came back without their workers."""
    pooled = RawSamples((0.001, 0.002, 0.003), (10, 10, 4), (1, 1, 2))
    path = tmp_path / "combined.parquet"
    writer = DatasetWriter(path, make_provenance("first"), rewrite_interval_s=3600)
    writer.write([synthetic_row("net", -1, [0.002] * 3)], RawSamples.uniform([0.002] * 3, 5))
    writer.write([synthetic_row("pooled", -1, [0.002] * 3)], pooled)
    writer._journal.close()  # the process dies here: the second row is in the journal only
    writer._lock.release()
    DatasetWriter(path, make_provenance("second"), resume=True).close()
    found = grouped(read_samples(path))
    assert found[("first", "network:1:pooled")] == pooled and found[("first", "network:1:net")].process is None


def test_a_damaged_or_newer_sidecar_is_one_sentence(tmp_path):
    path = write_run(tmp_path / "run.parquet")
    table = pq.read_table(samples_path(path))
    pq.write_table(table.replace_schema_metadata({b"hwprof_samples_version": b"2"}), samples_path(path))
    with pytest.raises(HwprofError, match="raw-samples format version 2, but this hwprof reads version 1"):
        read_samples(path)
    samples_path(path).write_text("not parquet")
    with pytest.raises(HwprofError, match="Could not read the raw samples .* move it away"):
        read_samples(path)


def test_rows_combined_across_processes_keep_every_workers_samples_with_its_loop_count(tmp_path):
    from hwprof.measuring.processes import combine_shards

    shards = []
    for k, loops in enumerate((10, 25)):
        shard = tmp_path / f"process{k}.parquet"
        with DatasetWriter(shard, make_provenance(f"run{k}")) as writer:
            for index in (-1, 0):
                drawn = [0.001 * (k + 1)] * 6
                writer.write([synthetic_row("net", index, drawn)], RawSamples.uniform(drawn, loops))
        shards.append(shard)
    pooled = combine_shards(shards, precision=0.02).samples
    assert set(pooled) == {("net", 1, None, "network", -1), ("net", 1, None, "layer", 0)}  # no sequence length
    for raw in pooled.values():
        assert raw.seconds_per_call == (0.001,) * 6 + (0.002,) * 6 and raw.loops == (10,) * 6 + (25,) * 6


@pytest.mark.slow
def test_measure_in_processes_writes_the_pooled_samples_of_every_row(tmp_path):
    out = tmp_path / "p.parquet"
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--processes", "2", *FAST])
    assert result.exit_code == 0, result.output
    frame = read_dataset(out)
    for index, raw in linked(out).items():
        assert len(raw.seconds_per_call) == frame["samples"][index]  # both workers' samples
        assert set(raw.process) == {1, 2}  # each marked with its worker
        if frame["kind"][index] == "network":  # its tail is a sample of the pooled ones (workers weighing alike)
            tail = [frame[column][index] for column in ("latency_ms_p90", "latency_ms_p99")]
            assert tail[0] <= tail[1]
            assert all(min(abs(value - s * 1e3) for s in raw.seconds_per_call) < 1e-9 for value in tail)


@pytest.mark.parametrize("processes", [1, 2])
def test_the_frame_measure_returns_links_to_the_samples_as_the_file_does(tmp_path, processes):
    from hwprof.measuring.session import measure

    out = tmp_path / "api.parquet"
    settings = dict(power="none", precision=0.2, max_item_s=0.3, threads=1, seed=0, processes=processes)
    returned = measure(["mlp"], out=str(out), **settings)
    written = read_dataset(out)
    assert returned["run_id"].notna().all()
    assert sorted(returned["run_id"]) == sorted(written["run_id"])
    found = grouped(read_samples(out))
    assert all((row["run_id"], row_key(row)) in found for row in returned.to_dict("records"))


def test_a_network_timed_at_two_sequence_lengths_links_to_two_sample_sets():
    from hwprof.samples import row_key

    row = {"kind": "network", "model": "hf:bert", "batch_size": 1}
    assert row_key({**row, "seq_len": 128}) != row_key({**row, "seq_len": 512})
    assert row_key({**row, "seq_len": None}) == row_key(row) == "network:1:hf:bert"  # as before sequences


def test_fit_and_report_take_a_glob_that_matches_the_sidecars_too(tmp_path):
    """`hwprof fit data/*.parquet` matches `x.parquet.samples.parquet` beside `x.parquet`: those are skipped, and a
    sidecar given alone is named as what it is."""
    from hwprof.fitting.data import read_inputs

    a = write_run(tmp_path / "a.parquet", seed=1)
    b = write_run(tmp_path / "b.parquet", seed=2)
    frame, sources = read_inputs([a, samples_path(a), b, samples_path(b)])
    assert sorted(set(frame["source"])) == [str(a), str(b)] and len(sources) == 2
    with pytest.raises(HwprofError, match="holds the raw samples of a.parquet, not a dataset"):
        read_inputs([samples_path(a)])
    result = CliRunner().invoke(main, ["report", str(samples_path(a)), "--out", str(tmp_path / "r.html")])
    assert result.exit_code != 0 and "holds the raw samples of a.parquet, not a dataset" in result.output
    result = CliRunner().invoke(main, ["show", str(samples_path(a))])  # named as what it is, not parsed
    assert result.exit_code != 0 and "holds the raw samples of a.parquet, not a dataset" in result.output


def test_a_glob_that_matches_provenance_files_merges_their_datasets_and_a_json_alone_is_named(tmp_path):
    a = write_run(tmp_path / "a.parquet", seed=1)
    (tmp_path / "a.parquet.json").write_text('{"schema_version": 1, "runs": []}')  # as a CSV run's provenance
    merged = merge_datasets([a, tmp_path / "a.parquet.json", samples_path(a)], tmp_path / "m.parquet")
    assert merged["rows"] == len(read_dataset(a))
    with pytest.raises(HwprofError, match=r"a.parquet.json is the provenance of .*a.parquet, not a dataset"):
        read_dataset(tmp_path / "a.parquet.json")
    (tmp_path / "p.json").write_text('{"format": "hwprof-predictor"}')
    with pytest.raises(HwprofError, match=r"p.json is a JSON file \(a predictor\?\), not a dataset"):
        read_dataset(tmp_path / "p.json")


@pytest.mark.parametrize("name", ["bs1:fp32.parquet", "bs1:fp32.csv"])
def test_a_file_name_that_looks_like_a_uri_scheme_is_still_a_local_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["measure", "mlp", "--no-layers", "--sweep-share", "0", "--out", name, *FAST])
    assert result.exit_code == 0, result.output
    assert len(read_dataset(name)) == 1 and len(linked(name)) == 1  # dataset and samples read back
    result = CliRunner().invoke(main, ["show", name])
    assert result.exit_code == 0 and "mlp" in result.output


def test_grouping_puts_each_targets_samples_in_sample_order_and_keeps_workers_only_when_every_sample_has_one():
    from hwprof.samples import DTYPES

    table = pd.DataFrame(
        {
            "run_id": ["r1", "r1", "r2", "r1", None, "r2", "r1"],
            "key": ["a", "b", "a", "a", "a", "a", "b"],
            "sample": [2, 0, 1, 0, 0, 0, 1],
            "seconds_per_call": [0.3, 1.0, 2.1, 0.1, 9.0, 2.0, 1.1],
            "loops": [3, 1, 1, 3, 1, 2, 1],
            "process": [1, None, 2, 1, None, 2, 2],
        }
    ).astype(DTYPES)
    found = grouped(table)
    assert found == {
        ("r1", "a"): RawSamples((0.1, 0.3), (3, 3), (1, 1)),
        ("r1", "b"): RawSamples((1.0, 1.1), (1, 1), None),  # one sample without its worker: no workers at all
        ("r2", "a"): RawSamples((2.0, 2.1), (2, 1), (2, 2)),
    }  # the sample without a run id belongs to no row
    assert grouped(table.iloc[:0]) == {}
