"""A sensor that stops while `hwprof run`'s command runs: the row is flagged sensor_stopped and its run's provenance
keeps the reason, as measure's rows and runs are, so `hwprof show` can repeat it."""

import json

import pandas as pd
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_dataset, read_provenance


def test_a_gpu_lost_mid_command_flags_the_row_and_keeps_the_reason(sysfs_root, tmp_path, lose_gpu_mid_command):
    """The row had power_flags null though its idle power was measured, and the provenance no reason: show said
    only "energy unavailable"."""
    out = tmp_path / "runs.parquet"
    first = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"])
    assert first.exit_code == 0, first.output
    lose_gpu_mid_command()
    args = ["run", "--device", "cuda:0", "--power", "nvml", "--out", str(out), "--json", "--", "false"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stderr)["power_flags"] == ["sensor_stopped"]
    row = read_dataset(out).iloc[1]
    assert row["power_flags"] == "sensor_stopped" and row["power_source"] == "nvml:0:total_energy"
    assert pd.isna(row["power_w"]) and row["idle_power_w"] > 0  # the baseline, measured before the loss, is kept
    power = read_provenance(out)[1]["power"]
    assert power["stopped_reason"].startswith("power measurement stopped: GPU 0 is unavailable, because NVML")
    assert power["stopped_after_rows"] == 1 and power["stopped_at"]
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert "power measurement stopped: GPU 0 is unavailable" in shown.output
    assert "flags sensor_stopped" in shown.output
    (_, stopped) = json.loads(CliRunner().invoke(main, ["show", str(out), "--json"]).output)["commands"]
    assert stopped["unavailable_reason"] == power["stopped_reason"]  # as `hwprof run --json` gives it
