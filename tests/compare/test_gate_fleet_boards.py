"""compare --fail-above on a fleet whose boards changed since the baseline: a missing board of a shared kind
is named with its remedy after the comparison is printed, and a board only tonight's fleet has is told."""

import json

import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.compare import CannotCompare, check_every_device_gated, compare
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def networks_only(path):
    """The run as `measure --no-layers` writes it: no layer rows for a model's or op's summary to test."""
    write_table(path, read_dataset(path).query("kind == 'network'"), read_provenance(path))
    return path


def board(tmp_path, name, seed, host, device_name="Orin"):
    path = write_run(tmp_path / f"{name}.parquet", seed=seed, device_name=device_name, provenance_fields={"host": host})
    return networks_only(path)


def test_a_missing_board_of_a_kind_is_named_after_the_comparison_not_hidden_behind_untested_rows(tmp_path):
    """Two boards of one kind, one run each in the baseline; tonight one did not run. Two runs against one leave
    every row untested, and the gate used to stop there ("measure more networks"), printing no comparison and
    never naming the missing board."""
    baseline, tonight = tmp_path / "baseline.parquet", tmp_path / "tonight.parquet"
    merge_datasets([board(tmp_path, "b1", 1, "orin-1"), board(tmp_path, "b2", 2, "orin-2")], baseline)
    merge_datasets([board(tmp_path, "n1", 3, "orin-1")], tonight)

    report = compare(baseline, tonight, fail_above=0.05)
    gate = report["gate"]
    assert gate["tested"] == 0 and gate["unchecked_devices"] == ["Orin on host orin-2"]
    assert gate["cannot_decide"]["why"].startswith("no latency_ms change between")
    with pytest.raises(CannotCompare, match="has no run of Orin from host orin-2") as raised:
        check_every_device_gated(report)
    assert "measure it as BASE did" in str(raised.value)
    assert "measure more networks" not in str(raised.value)  # not the remedy: the board is

    gated = run(baseline, tonight, "--fail-above", "5%")
    assert gated.exit_code == 2, gated.output
    assert "rows paired" in gated.stdout and "gate: could not check Orin on host orin-2" in gated.stdout
    assert "could be tested for significance" in gated.stderr and "measure it as BASE did" in gated.stderr
    assert "Traceback" not in gated.output

    as_json = run(baseline, tonight, "--fail-above", "5%", "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["gate"]["unchecked"][0]["host"] == "orin-2"


def test_an_untestable_gate_with_every_board_present_still_says_what_would_let_it_decide(tmp_path):
    """Two reruns of one board against one run: nothing is unchecked, so the error names the untested rows' cause."""
    base = tmp_path / "base.parquet"
    merge_datasets([board(tmp_path, "r1", 1, "vm"), board(tmp_path, "r2", 2, "vm")], base)
    new = board(tmp_path, "new", 3, "vm")
    with pytest.raises(CannotCompare, match="could be tested for significance .two runs against one.* merge a third"):
        compare(base, new, fail_above=0.05)


def test_a_board_only_tonight_is_named_as_not_gated(tmp_path):
    """A board added to the fleet after its baseline was stored pairs with nothing: the gate passed every night
    without a word, however slow that board got."""
    baseline = write_run(tmp_path / "baseline.parquet", seed=1, device_name="board-a")
    tonight = tmp_path / "tonight.parquet"
    added = write_run(tmp_path / "b.parquet", seed=3, device_name="board-b", factor=2.0)
    merge_datasets([write_run(tmp_path / "a.parquet", seed=2, device_name="board-a"), added], tonight)

    report = compare(baseline, tonight, fail_above=0.05)
    assert report["devices_only_in_new"] == ["board-b"] and report["devices_only_in_base"] == []
    assert report["gate"]["regressions"] == [] and report["gate"]["unchecked_devices"] == []
    assert compare(tonight, baseline)["devices_only_in_new"] == []
