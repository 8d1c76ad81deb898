"""power_flags means one thing in every file: null where no power was measured, "" where power was measured and
nothing was flagged. `hwprof run` without a sensor wrote "", and a CSV file read "" back as null, so
`(power_flags == "").sum()` differed between the Parquet and the CSV file of the same rows."""

import uuid

import pandas as pd
from click.testing import CliRunner

from fakes.runs import minimal_layer_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter, read_dataset
from hwprof.schema import SCHEMA_VERSION

ROWS = [
    minimal_layer_row(0),  # no sensor: null
    {**minimal_layer_row(1), "power_w": 5.0, "power_source": "rapl", "power_flags": ""},  # measured, clean
    {**minimal_layer_row(2), "power_w": 5.0, "power_source": "rapl", "power_flags": "throttled"},
    {**minimal_layer_row(3), "power_source": "rapl", "power_flags": "no_energy"},  # tried, flagged
]


def written(path):
    with DatasetWriter(path, {"run_id": uuid.uuid4().hex, "schema_version": SCHEMA_VERSION}) as writer:
        writer.write(ROWS)
    return read_dataset(path)["power_flags"].astype(object).where(lambda flags: flags.notna(), None).tolist()


def test_power_flags_survive_the_csv_round_trip(tmp_path):
    expected = [None, "", "throttled", "no_energy"]
    assert written(tmp_path / "d.parquet") == expected
    assert written(tmp_path / "d.csv") == expected


def test_hwprof_run_without_a_sensor_writes_null_flags_in_parquet_and_csv(sysfs_root, tmp_path):
    for name in ("runs.parquet", "runs.csv"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"])
        assert result.exit_code == 0, result.output
        flags = read_dataset(out)["power_flags"]
        assert flags.isna().all() and not flags.eq("").any()


def test_a_parquet_run_written_before_the_rule_reads_null_where_no_power_was_measured(sysfs_root, tmp_path):
    out = tmp_path / "runs.parquet"
    assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"]).exit_code == 0
    table = pd.read_parquet(out)
    table["power_flags"] = ""  # as hwprof run wrote it without a sensor
    table.to_parquet(out)
    assert read_dataset(out)["power_flags"].isna().all()
