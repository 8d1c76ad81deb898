"""Rows written before the dtype, compiled, channels_last and cache columns existed read as they were
measured (float32, eager, channels first, layers warm), alone or merged with newer rows: not as a second,
unnamed setting of the same model."""

import uuid

import pandas as pd
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import DatasetWriter, read_dataset
from hwprof.schema import SCHEMA_VERSION

LATER_COLUMNS = ["dtype", "compiled", "channels_last", "cache"]


def rows(kind, **settings):
    row = {
        "kind": kind,
        "model": "mlp",
        "batch_size": 1,
        "device": "cpu",
        "device_name": "cpu",
        "layer_index": 0 if kind == "layer" else None,
        "layer_name": "fc" if kind == "layer" else None,
        "op": "linear" if kind == "layer" else "network",
        "config": "{}",
        "latency_ms": 0.5,
        "samples": 10,
        "iterations": 100,
        "stable": True,
    }
    return [{**row, **settings}]


def write(path, settings, drop=()):
    provenance = {"run_id": uuid.uuid4().hex, "schema_version": SCHEMA_VERSION, "host": "h", "device_name": "cpu"}
    with DatasetWriter(path, provenance) as writer:
        writer.write(rows("layer", **settings) + rows("network", **{k: v for k, v in settings.items() if k != "cache"}))
    if drop:  # as an older hwprof wrote it
        pd.read_csv(path).drop(columns=list(drop)).to_csv(path, index=False)


def test_old_rows_read_with_the_settings_they_were_measured_with_alone_and_merged(tmp_path):
    old, new, merged = tmp_path / "old.csv", tmp_path / "new.csv", tmp_path / "all.parquet"
    write(old, {}, drop=LATER_COLUMNS)
    write(new, {"dtype": "float32", "compiled": False, "channels_last": False, "cache": "cold"})
    frame = read_dataset(old).set_index("kind")
    assert frame.loc["layer", LATER_COLUMNS].tolist() == ["float32", False, False, "warm"]
    assert frame.loc["network", LATER_COLUMNS[:3]].tolist() == ["float32", False, False]
    assert pd.isna(frame.loc["network", "cache"])  # a whole network has no cache mode
    result = CliRunner().invoke(main, ["merge", str(old), str(new), "--out", str(merged)])
    assert result.exit_code == 0 and "has no column" not in result.output, result.output
    frame = read_dataset(merged)
    assert frame.groupby(["model", "dtype", "compiled", "channels_last"]).ngroups == 1  # one model, not two
    assert sorted(frame.loc[frame["kind"] == "layer", "cache"]) == ["cold", "warm"]
