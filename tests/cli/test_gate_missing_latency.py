"""`compare --fail-above` never passes a paired row whose latency it could not compare: a blank or zero cell (a
CSV edited or rounded by hand) gives no ratio, so the row is named in gate.unchecked and the gate exits 2."""

import json
import math

from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.dataset import read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def edited(tmp_path, kind, value):
    """A rerun of `net` whose rows of `kind` were given `value` as latency_ms, its raw samples kept."""
    new = write_run(tmp_path / "new.parquet", seed=2)
    frame = read_dataset(new)
    frame.loc[frame["kind"] == kind, "latency_ms"] = value
    write_table(new, frame, read_provenance(new))
    return new


def test_a_network_with_no_latency_is_unchecked_and_the_gate_cannot_pass(tmp_path):
    base, new = write_run(tmp_path / "base.parquet", seed=1), edited(tmp_path, "network", math.nan)
    result = run(base, new, "--fail-above", "5%", "--json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)  # the comparison is printed, then the gate says what it could not check
    network = next(row for row in report["rows"] if row["kind"] == "network")
    assert network["latency_ms"]["ratio"] is None and network["latency_ms"]["new"] is None
    assert network["latency_ms"]["why"] == "NEW has no latency_ms"
    (unchecked,) = report["gate"]["unchecked"]
    assert unchecked["row"] == "net batch 1 network" and "NEW has no latency_ms" in unchecked["why"]
    assert report["gate"]["unchecked_devices"] == []  # the board was compared; one of its rows was not
    assert "1 paired row had no positive latency_ms (net batch 1 network" in result.stderr

    text = run(base, new, "--fail-above", "5%")
    assert text.exit_code == 2
    assert f"1 of {LAYERS + 1} rows has no latency ratio (not compared, not unchanged)" in text.stdout
    assert "gate: could not check 1 row with no positive latency_ms in BASE or NEW: net batch 1 network" in text.stdout


def test_zero_latency_layers_are_unchecked_and_their_op_summary_says_why(tmp_path):
    base, new = write_run(tmp_path / "base.parquet", seed=1), edited(tmp_path, "layer", 0.0)
    result = run(base, new, "--fail-above", "5%", "--json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert len(report["gate"]["unchecked"]) == LAYERS
    assert "NEW's latency_ms is 0, not a positive number" in report["gate"]["unchecked"][0]["why"]
    (linear,) = [entry for entry in report["ops"] if entry["op"] == "linear"]
    assert linear["latency_ms"]["ratio"] is None and linear["latency_ms"]["rows"] == 0
    assert linear["latency_ms"]["why"] == "no row of it has a positive latency_ms in both BASE and NEW"


def test_a_regression_elsewhere_still_exits_1(tmp_path):
    """A risen network is the stronger news than a row left unchecked, as with a board left unchecked."""
    base = write_run(tmp_path / "base.parquet", seed=1)
    new = write_run(tmp_path / "new.parquet", seed=2, factor=1.2)
    frame = read_dataset(new)
    frame.loc[frame["layer_index"] == 0, "latency_ms"] = math.nan
    write_table(new, frame, read_provenance(new))
    assert run(base, new, "--fail-above", "5%").exit_code == 1
