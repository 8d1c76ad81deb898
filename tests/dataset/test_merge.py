"""`hwprof merge`: shards from several boards become one dataset, provenance kept."""

import json
import os
import uuid

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import DatasetWriter, read_dataset, read_provenance
from hwprof.schema import SCHEMA_VERSION


def make_rows(device_name, count):
    return [
        {
            "kind": "layer",
            "model": "resnet18",
            "batch_size": 1,
            "device": "cuda:0",
            "device_name": device_name,
            "layer_index": index,
            "layer_name": f"conv{index}",
            "op": "conv2d",
            "config": "{}",
            "flops": 1000 * (index + 1),
            "params": 10,
            "input_bytes": 4,
            "output_bytes": 4,
            "weight_bytes": 40,
            "latency_ms": 0.5 * (index + 1),
            "latency_ms_ci_low": 0.4,
            "latency_ms_ci_high": 0.6,
            "latency_ms_std": 0.01,
            "samples": 10,
            "iterations": 100,
            "stable": True,
            "power_w": 12.5,
            "idle_power_w": 5.0,
            "energy_mj": 6.25,
            "power_source": "tegrastats",
        }
        for index in range(count)
    ]


def write_shard(path, device_name, host, count):
    provenance = {
        "run_id": uuid.uuid4().hex,
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "device_name": device_name,
    }
    with DatasetWriter(path, provenance) as writer:
        writer.write(make_rows(device_name, count))
    return provenance["run_id"]


@pytest.fixture
def shards(tmp_path):
    orin = tmp_path / "shard-orin.parquet"
    xavier = tmp_path / "shard-xavier.csv"
    return {
        "paths": [orin, xavier],
        "run_ids": [
            write_shard(orin, "Jetson AGX Orin", "orin-01", 3),
            write_shard(xavier, "Jetson Xavier NX", "xavier-07", 2),
        ],
    }


def merge(*args):
    return CliRunner().invoke(main, ["merge", *map(str, args)])


def assert_one_sentence_error(result, *fragments):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_merge_of_two_boards_keeps_rows_and_both_provenances(tmp_path, shards):
    out = tmp_path / "fleet.parquet"
    result = merge(*shards["paths"], "--out", out)
    assert result.exit_code == 0, result.output

    merged = read_dataset(out)
    assert len(merged) == 5
    assert merged.groupby("device_name")["run_id"].unique().map(list).to_dict() == {
        "Jetson AGX Orin": [shards["run_ids"][0]],
        "Jetson Xavier NX": [shards["run_ids"][1]],
    }
    assert merged["power_w"].tolist() == [12.5] * 5
    runs = read_provenance(out)
    assert [run["run_id"] for run in runs] == shards["run_ids"]
    assert [run["host"] for run in runs] == ["orin-01", "xavier-07"]
    assert json.loads((tmp_path / "fleet.parquet.json").read_text())["runs"] == runs

    assert "Merged 2 shard(s) into" in result.output and "5 rows from 2 run(s)" in result.output
    orin_line = next(line for line in result.output.splitlines() if line.startswith("Jetson AGX Orin"))
    assert "orin-01" in orin_line and orin_line.split()[-1] == "3"


def test_merge_json_summary_and_csv_output(tmp_path, shards):
    out = tmp_path / "fleet.csv"
    result = merge(*shards["paths"], "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 5
    assert [(run["device_name"], run["rows"], run["status"]) for run in summary["runs"]] == [
        ("Jetson AGX Orin", 3, "complete"),
        ("Jetson Xavier NX", 2, "complete"),
    ]
    assert [shard["rows"] for shard in summary["shards"]] == [3, 2]
    assert len(pd.read_csv(out)) == 5
    assert [run["run_id"] for run in read_provenance(out)] == shards["run_ids"]


def test_merge_refuses_a_shard_with_missing_columns(tmp_path, shards):
    foreign = tmp_path / "foreign.csv"
    pd.DataFrame({"model": ["a"], "batch_size": [1], "latency_ms": [1.0]}).to_csv(foreign, index=False)
    out = tmp_path / "fleet.parquet"
    result = merge(shards["paths"][0], foreign, "--out", out)
    assert_one_sentence_error(
        result, "foreign.csv lacks the column(s) kind, device,", "does not look like an hwprof dataset"
    )
    assert not out.exists()


def test_merge_refuses_mismatched_column_types(tmp_path, shards):
    frame = pd.read_csv(shards["paths"][1])
    frame["latency_ms"] = "fast"
    frame.to_csv(shards["paths"][1], index=False)
    result = merge(*shards["paths"], "--out", tmp_path / "fleet.parquet")
    assert_one_sentence_error(result, "shard-xavier.csv", "column latency_ms holds text where hwprof writes numbers")

    extra_a, extra_b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_shard(extra_a, "A", "a", 1)
    write_shard(extra_b, "B", "b", 1)
    for path, value in ((extra_a, "1.5"), (extra_b, "hot")):
        frame = pd.read_csv(path)
        frame["board_temp"] = value
        frame.to_csv(path, index=False)
    result = merge(extra_a, extra_b, "--out", tmp_path / "fleet.parquet")
    assert_one_sentence_error(result, "Column board_temp holds numbers in", "but text in", "do not share one schema")


def test_merge_refuses_a_newer_schema_version(tmp_path, shards):
    path = shards["paths"][0]
    table = pq.read_table(path)
    document = {"schema_version": SCHEMA_VERSION + 1, "runs": []}
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"hwprof": json.dumps(document)}), path)
    result = merge(*shards["paths"], "--out", tmp_path / "fleet.parquet")
    assert_one_sentence_error(result, f"schema version {SCHEMA_VERSION + 1}", "upgrade hwprof")


def test_merge_refuses_output_that_is_an_input_or_exists(tmp_path, shards):
    result = merge(*shards["paths"], "--out", shards["paths"][0])
    assert_one_sentence_error(result, "is also an input")
    first = shards["paths"][0]
    for suffix, what in ((".samples.parquet", "raw samples"), (".json", "provenance")):
        companion = f"{first}{suffix}"
        before = open(companion, "rb").read() if os.path.exists(companion) else None
        result = merge(*shards["paths"], "--out", companion, "--force")
        assert_one_sentence_error(result, f"is the {what} file of the input")
        assert (open(companion, "rb").read() if os.path.exists(companion) else None) == before
    other = tmp_path / "other.parquet"  # beside a dataset that is not an input: refused all the same
    other.write_bytes(open(first, "rb").read())
    result = merge(*shards["paths"], "--out", f"{other}.json", "--force")
    assert_one_sentence_error(result, f"other.parquet.json is the provenance file of the dataset {other}")

    out = tmp_path / "fleet.parquet"
    assert merge(*shards["paths"], "--out", out).exit_code == 0
    assert_one_sentence_error(merge(*shards["paths"], "--out", out), "already exists", "--force")
    assert merge(*shards["paths"], "--out", out, "--force").exit_code == 0
    assert_one_sentence_error(
        merge(out, shards["paths"][0], "--out", tmp_path / "again.parquet"), f"Run {shards['run_ids'][0]} is in both"
    )


def test_merge_refuses_duplicate_missing_and_unfinished_shards(tmp_path, shards):
    out = tmp_path / "fleet.parquet"
    assert_one_sentence_error(merge(shards["paths"][0], shards["paths"][0], "--out", out), "is given twice")
    assert_one_sentence_error(merge(tmp_path / "nope.parquet", "--out", out), "nope.parquet does not exist")
    (tmp_path / "shard-orin.parquet.partial.jsonl").write_text("")
    assert_one_sentence_error(merge(*shards["paths"], "--out", out), "did not finish", "--resume")
    assert_one_sentence_error(
        merge(shards["paths"][1], "--out", tmp_path / "no" / "fleet.parquet"), "does not exist; create it"
    )


def test_merge_warns_about_a_shard_without_provenance(tmp_path, shards):
    (tmp_path / "shard-xavier.csv.json").unlink()
    result = CliRunner().invoke(main, ["merge", *map(str, shards["paths"]), "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "carries no provenance" in result.output
    assert [run["run_id"] for run in read_provenance(tmp_path / "f.parquet")] == shards["run_ids"][:1]
    assert len(read_dataset(tmp_path / "f.parquet")) == 5


def test_merge_help_describes_the_fleet_workflow():
    result = CliRunner().invoke(main, ["merge", "--help"])
    assert result.exit_code == 0
    assert "fleet of boards" in result.output and "--out" in result.output


def test_merge_warns_of_a_shard_without_a_column_the_others_have(tmp_path, shards):
    xavier = shards["paths"][1]
    frame = pd.read_csv(xavier)
    dropped = "other_cpu_share"  # not "cache" or "dtype": rows from before those read as measured, warm, float32
    frame.drop(columns=[dropped]).to_csv(xavier, index=False)  # an older hwprof's shard
    result = CliRunner().invoke(main, ["merge", *map(str, shards["paths"]), "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 0, result.output
    assert f"shard-xavier.csv has no column {dropped}" in result.output
