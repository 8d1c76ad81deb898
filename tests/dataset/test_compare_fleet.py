"""compare --fail-above on a fleet: a board that changed dtype, or one of several boards of one kind that did
not run, is named and cannot pass the gate; the gate's undecided errors say what would let it decide."""

import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.compare import CannotCompare, check_every_device_gated, compare
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def as_dtype(path, dtype):
    write_table(path, read_dataset(path).assign(dtype=dtype), read_provenance(path))
    return path


def test_a_fleet_board_that_changed_dtype_is_named_and_the_gate_exits_2(tmp_path):
    boards = [
        as_dtype(
            write_run(tmp_path / f"{b}.parquet", seed=s, device_name=f"board-{b}", models=("net", "swp")), "float32"
        )
        for s, b in ((1, "a"), (2, "b"))
    ]
    baseline = tmp_path / "baseline.parquet"
    merge_datasets(boards, baseline)
    parts = [
        as_dtype(write_run(tmp_path / "ta.parquet", seed=3, device_name="board-a", models=("net", "swp")), "float32"),
        as_dtype(write_run(tmp_path / "tb.parquet", seed=4, device_name="board-b", models=("net",)), "bfloat16"),
    ]
    tonight = tmp_path / "tonight.parquet"
    merge_datasets(parts, tonight)

    report = compare(baseline, tonight, fail_above=0.05)
    assert report["devices_measured_otherwise"] == [
        {"device_name": "board-b", "how": "float32 in BASE, bfloat16 in NEW"}
    ]
    assert report["models_only_in_base"] == []  # board b's models are not 'only in BASE': it ran, otherwise
    assert report["gate"]["unchecked_devices"] == ["board-b"]
    gated = run(baseline, tonight, "--fail-above", "5%")
    assert gated.exit_code == 2, gated.output
    assert "board-b: float32 in BASE, bfloat16 in NEW" in gated.stderr
    assert "note: board-b was measured otherwise (float32 in BASE, bfloat16 in NEW)" in gated.stdout

    # every board measured otherwise, though both files hold both dtypes: refused up front, naming each
    swapped = [
        as_dtype(write_run(tmp_path / "sa.parquet", seed=5, device_name="board-a"), "bfloat16"),
        as_dtype(write_run(tmp_path / "sb.parquet", seed=6, device_name="board-b"), "float32"),
    ]
    merge_datasets([boards[0], parts[1]], tmp_path / "mixed_base.parquet")
    merge_datasets(swapped, tmp_path / "swapped.parquet")
    refused = run(tmp_path / "mixed_base.parquet", tmp_path / "swapped.parquet", "--fail-above", "5%")
    assert refused.exit_code == 2 and refused.output.count("\n") == 1
    assert "measured no device the same way (board-a: float32 in BASE, bfloat16 in NEW; board-b: bfloat16" in (
        refused.output
    )


def test_models_only_in_base_name_their_board_when_the_other_board_is_not_compared(tmp_path):
    a = write_run(tmp_path / "a.parquet", seed=1, device_name="board-a", models=("net", "other"))
    b = write_run(tmp_path / "b.parquet", seed=2, device_name="board-b", models=("net",))
    baseline = tmp_path / "baseline.parquet"
    merge_datasets([a, b], baseline)
    tonight = write_run(tmp_path / "tonight.parquet", seed=3, device_name="board-a", models=("net",))
    assert "note: models only in BASE on board-a: other" in run(baseline, tonight).output


def two_boards_of_a_kind(tmp_path):
    """A baseline merged from two boards that share the device name Orin, told apart by host: orin-1, orin-2."""
    shards = [
        write_run(tmp_path / f"{host}.parquet", seed=seed, device_name="Orin", provenance_fields={"host": host})
        for seed, host in ((1, "orin-1"), (2, "orin-2"))
    ]
    baseline = tmp_path / "baseline.parquet"
    merge_datasets(shards, baseline)
    return baseline


def test_a_board_of_a_kind_that_did_not_run_is_named_by_its_host_and_the_gate_exits_2(tmp_path):
    """Two boards share a device name: the baseline pools both, tonight only one ran. No device is missing,
    but a host is."""
    baseline = two_boards_of_a_kind(tmp_path)
    tonight = write_run(tmp_path / "tonight.parquet", seed=3, device_name="Orin", provenance_fields={"host": "orin-1"})
    report = compare(baseline, tonight, fail_above=0.05)
    assert [(e["device_name"], e["host"]) for e in report["boards_only_in_base"]] == [("Orin", "orin-2")]
    assert report["gate"]["unchecked_devices"] == ["Orin on host orin-2"]
    with pytest.raises(CannotCompare, match="has no run of Orin from host orin-2"):
        check_every_device_gated(report)
    gated = run(baseline, tonight, "--fail-above", "5%")
    assert gated.exit_code == 2 and "has no run of Orin from host orin-2" in gated.stdout

    both = tmp_path / "both.parquet"
    merge_datasets(
        [tonight, write_run(tmp_path / "t2.parquet", seed=4, device_name="Orin", provenance_fields={"host": "orin-2"})],
        both,
    )
    assert run(baseline, both, "--fail-above", "5%").exit_code == 0
    unrecorded = write_run(tmp_path / "old.parquet", seed=5, device_name="Orin")  # no host: nothing to tell apart
    assert compare(baseline, unrecorded)["boards_only_in_base"] == []


def test_a_board_of_a_kind_that_ran_another_dtype_tonight_is_not_passed_unchecked(tmp_path):
    """Two boards share a device name; tonight one ran bfloat16. The device's dtypes overlapped (float32 on both
    sides), so the gate passed with exit 0: that board's rows paired with nothing and nobody was told."""
    baseline, tonight = two_boards_of_a_kind(tmp_path), tmp_path / "tonight.parquet"
    other = write_run(tmp_path / "t2.parquet", seed=4, device_name="Orin", provenance_fields={"host": "orin-2"})
    write_table(other, read_dataset(other).assign(dtype="bfloat16"), read_provenance(other))
    alike = write_run(tmp_path / "t1.parquet", seed=3, device_name="Orin", provenance_fields={"host": "orin-1"})
    merge_datasets([alike, other], tonight)
    gated = run(baseline, tonight, "--fail-above", "5%")
    assert gated.exit_code == 2, gated.output
    assert "from host orin-2 measured as" in gated.stdout and "it ran, measured otherwise" in gated.stdout


def test_a_missing_board_beside_a_renamed_one_is_one_board_missing_not_two(tmp_path):
    baseline = two_boards_of_a_kind(tmp_path)
    renamed = write_run(tmp_path / "c.parquet", seed=3, device_name="Orin", provenance_fields={"host": "ci-7f3a"})
    (entry,) = compare(baseline, renamed)["boards_only_in_base"]
    assert entry["host"] == "orin-1 or orin-2" and "did not run alike, or ran under another name" in entry["why"]
    assert run(baseline, renamed, "--fail-above", "50%").exit_code == 2


def test_a_board_whose_host_was_renamed_is_still_compared_and_gated(tmp_path):
    """One board, measured tonight in a container with another host name: as many hosts on each side are the
    same boards renamed. The gate used to exit 2 every night, and the note said the board was not compared."""
    base = write_run(tmp_path / "base.parquet", seed=1, device_name="Orin", provenance_fields={"host": "vm"})
    renamed = write_run(tmp_path / "new.parquet", seed=2, device_name="Orin", provenance_fields={"host": "ci-7f3a"})
    assert compare(base, renamed)["boards_only_in_base"] == []
    gated = run(base, renamed, "--fail-above", "50%")
    assert gated.exit_code == 0, gated.output
    assert "no run of Orin from host" not in gated.stdout


def test_an_energy_gate_undecided_on_a_network_does_not_ask_for_raw_samples_it_has(tmp_path):
    """A network's energy is one load window: no sample spread tests it, and raw samples cannot help."""
    base = write_run(tmp_path / "base.parquet", seed=1, power_w=10.0)
    hotter = write_run(tmp_path / "hotter.parquet", seed=2, power_w=13.0)
    for path in (base, hotter):  # --no-layers runs: no layer rows for a model's summary to test
        write_table(path, read_dataset(path).query("kind == 'network'"), read_provenance(path))
    result = run(base, hotter, "--metric", "energy_mj", "--fail-above", "5%")
    assert result.exit_code == 2, result.output
    assert "one load window, which no test bounds" in result.output
    assert "give datasets measured with raw samples" not in result.output


def test_an_undecided_gate_with_raw_samples_asks_for_more_samples_not_for_raw_samples(tmp_path):
    base = write_run(tmp_path / "base.parquet", samples=3, seed=1)
    slower = write_run(tmp_path / "slower.parquet", samples=3, factor=1.3, seed=2)
    for path in (base, slower):  # a network row alone: too few rows for a summary to decide instead
        write_table(path, read_dataset(path).query("kind == 'network'"), read_provenance(path))
    result = run(base, slower, "--fail-above", "5%")
    assert result.exit_code == 2, result.output
    assert "only 3 samples" in result.output and "longer --max-time" in result.output
    assert "give datasets measured with raw samples" not in result.output


def test_a_torch_release_that_differs_is_noted(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={"torch": "2.1.0"})
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields={"torch": "2.5.1"})
    assert compare(base, new)["run_differences"] == [
        "BASE ran torch 2.1.0 and NEW 2.5.1: each ratio includes that change"
    ]
    assert "note: BASE ran torch 2.1.0" in run(base, new).output
