"""`hwprof compare` on energy says how many of the rows it compares carry power flags, and a regression on them too."""

import json

from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table


def flagged(path, flags):
    """The dataset at `path` with `flags` (layer name -> power_flags) written into its rows."""
    frame = read_dataset(path)
    frame["power_flags"] = frame["layer_name"].map(flags).fillna("")
    write_table(path, frame, read_provenance(path))
    return path


def runs(tmp_path):
    base = flagged(write_run(tmp_path / "base.parquet", power_w=10.0, seed=1), {"layers.0": "idle_unstable"})
    hotter = write_run(tmp_path / "hotter.parquet", power_w=11.5, seed=2)
    return base, flagged(hotter, {"layers.1": "load_unstable", "layers.2": "load_unstable,below_idle"})


def test_an_energy_comparison_counts_the_rows_with_power_flags_on_either_side(tmp_path):
    """compare --metric energy_mj never mentioned power_flags: a rise over rows flagged load_unstable or
    below_idle read as certain as one over clean rows."""
    base, hotter = runs(tmp_path)
    report = compare(base, hotter, fail_above=0.05, metric="energy_mj")
    assert report["power_flags"] == {
        "compared_rows": LAYERS + 1,
        "flagged_rows": 3,
        "flags": {"below_idle": 1, "idle_unstable": 1, "load_unstable": 2},
    }
    by_name = {row["layer_name"]: row for row in report["rows"]}
    assert by_name["layers.0"]["power_flags"] == {"base": ["idle_unstable"], "new": []}
    assert by_name["layers.2"]["energy_mj"]["flags"] == ["below_idle", "load_unstable"]
    (regression,) = [entry for entry in report["gate"]["regressions"] if entry["where"] == "model"]
    assert regression["flagged_rows"] == 3 and regression["rows"] == LAYERS + 1

    result = CliRunner().invoke(
        main, ["compare", str(base), str(hotter), "--metric", "energy_mj", "--fail-above", "5%"]
    )
    assert result.exit_code == 1, result.output
    assert (
        "power flags: 3 of the 9 rows compared on energy and power carry power flags in BASE or NEW "
        "(below_idle 1, idle_unstable 1, load_unstable 2)" in result.output
    )
    assert "above 5%; 3 of the 9 rows behind it carry power flags (below_idle, idle_unstable, load_unstable)" in (
        result.output
    )
    as_json = json.loads(CliRunner().invoke(main, ["compare", str(base), str(hotter), "--json"]).output)
    assert as_json["power_flags"]["flagged_rows"] == 3


def test_rows_without_flags_or_without_power_say_nothing_of_flags(tmp_path):
    base = write_run(tmp_path / "base.parquet", power_w=10.0, seed=1)
    hotter = write_run(tmp_path / "hotter.parquet", power_w=11.5, seed=2)
    assert compare(base, hotter)["power_flags"]["flagged_rows"] == 0
    result = CliRunner().invoke(main, ["compare", str(base), str(hotter)])
    assert result.exit_code == 0 and "power flags" not in result.output
    plain = write_run(tmp_path / "plain.parquet", seed=3)
    assert compare(base, plain)["power_flags"] is None
