"""What `hwprof compare` prints about a fleet whose boards changed since its baseline: a board only tonight's
fleet has is named as not gated, and a gate that cannot decide says so instead of reporting a pass."""

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def networks_only(path):
    write_table(path, read_dataset(path).query("kind == 'network'"), read_provenance(path))
    return path


def test_a_board_only_in_new_is_named_in_the_printed_report(tmp_path):
    baseline = write_run(tmp_path / "baseline.parquet", seed=1, device_name="board-a")
    tonight = tmp_path / "tonight.parquet"
    added = write_run(tmp_path / "b.parquet", seed=3, device_name="board-b", factor=2.0)
    merge_datasets([write_run(tmp_path / "a.parquet", seed=2, device_name="board-a"), added], tonight)
    result = run(baseline, tonight, "--fail-above", "5%")
    assert result.exit_code == 0 and "BASE has no row of board-b" in result.stdout
    assert "nothing of it is compared or gated" in result.stdout


def test_a_gate_that_cannot_decide_does_not_print_a_pass(tmp_path):
    """Two boards of one kind in the baseline, one tonight: before the error, the gate's line used to read
    'no significant latency rise above 5% (0 comparisons tested)'."""
    boards = [
        networks_only(
            write_run(tmp_path / f"{name}.parquet", seed=seed, device_name="Orin", provenance_fields={"host": host})
        )
        for name, seed, host in (("b1", 1, "orin-1"), ("b2", 2, "orin-2"), ("n1", 3, "orin-1"))
    ]
    baseline, tonight = tmp_path / "baseline.parquet", tmp_path / "tonight.parquet"
    merge_datasets(boards[:2], baseline)
    merge_datasets(boards[2:], tonight)
    result = run(baseline, tonight, "--fail-above", "5%")
    assert result.exit_code == 2
    assert "gate: cannot decide: no latency_ms change" in result.stdout
    assert "no significant latency rise" not in result.stdout
