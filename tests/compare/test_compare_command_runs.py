"""compare on figures measured once per run: a command `hwprof run` timed (latency, energy, power) and a network's
energy and power. Where the sides hold enough runs of a row, the spread between the runs tests it, as it tests
latency over merged reruns; with fewer, a command row says what to do about it, and the gate never asks a
`hwprof run` user for networks, --max-time or raw samples, which `hwprof run` has no way to give."""

import uuid

import pytest
from click.testing import CliRunner

from fakes.runs import minimal_command_row, write_run
from hwprof.cli import main
from hwprof.compare import HIGHER, LOWER, SAME, UNTESTED, compare
from hwprof.dataset import merge_datasets, plain_row, rows_frame, write_table
from hwprof.schema import SCHEMA_VERSION


def command_runs(path, energies_j, seconds=1.0, argv=("sh", "job.sh")):
    """A dataset as `hwprof run --out` leaves it after one run per figure of `energies_j`: a command row each,
    every run with an id of its own; `seconds` is one wall time for all, or one per run."""
    times = seconds if isinstance(seconds, list) else [seconds] * len(energies_j)
    runs, rows = [], []
    for energy_j, time_s in zip(energies_j, times):
        run_id = uuid.uuid4().hex
        runs.append({"run_id": run_id, "schema_version": SCHEMA_VERSION})
        figures = {"latency_ms": time_s * 1e3, "energy_mj": energy_j * 1e3, "power_w": energy_j / time_s}
        rows.append(plain_row({**minimal_command_row(list(argv)), **figures}, run_id))
    write_table(path, rows_frame(rows), runs)
    return path


def gate(base, new, *options):
    return CliRunner().invoke(main, ["compare", str(base), str(new), *options])


BASE_J = [100.0, 102.0, 98.5]  # three runs agreeing within 3%, as the audit's RAPL runs did


def energy_gate(tmp_path, new_j):
    """BASE's three runs against NEW's `new_j`, through `--metric energy_mj --fail-above 5%`."""
    base = command_runs(tmp_path / "base.parquet", BASE_J)
    new = command_runs(tmp_path / "new.parquet", new_j)
    return base, new, gate(base, new, "--metric", "energy_mj", "--fail-above", "5%")


def test_an_energy_rise_of_20_percent_over_three_runs_a_side_fails_the_gate(tmp_path):
    base, new, result = energy_gate(tmp_path, [120.0, 123.0, 118.0])
    assert result.exit_code == 1, result.output
    assert "regression: command sh job.sh energy +20.0%" in result.output
    (row,) = compare(base, new)["rows"]
    assert row["energy_mj"]["verdict"] == row["power_w"]["verdict"] == HIGHER
    assert 1 < row["energy_mj"]["ci_low"] < 1.2 < row["energy_mj"]["ci_high"]
    assert row["latency_ms"]["verdict"] == SAME  # the same wall time in every run


def test_unchanged_energy_over_three_runs_a_side_passes_the_gate(tmp_path):
    base, new, result = energy_gate(tmp_path, [101.0, 99.0, 100.5])
    assert result.exit_code == 0, result.output
    assert "gate: no significant energy rise above 5%" in result.output
    assert "significance unavailable" not in result.output  # the rows were tested, by their runs


def test_a_fall_over_three_runs_a_side_is_tested_and_passes(tmp_path):
    base, new, result = energy_gate(tmp_path, [84.0, 86.0, 83.0])
    assert result.exit_code == 0, result.output
    assert compare(base, new)["rows"][0]["energy_mj"]["verdict"] == LOWER


def test_a_command_slower_over_three_runs_a_side_fails_a_latency_gate(tmp_path):
    base = command_runs(tmp_path / "base.parquet", BASE_J, seconds=[1.0, 1.02, 0.99])
    new = command_runs(tmp_path / "new.parquet", BASE_J, seconds=[1.2, 1.22, 1.19])
    result = gate(base, new, "--fail-above", "5%")
    assert result.exit_code == 1, result.output
    assert "regression: command sh job.sh latency +20" in result.output


def test_two_runs_a_side_are_tested_as_latency_over_merged_reruns_is(tmp_path):
    """Two runs a side leave the spread between runs 2 degrees of freedom, the least compare tests latency by."""
    base = command_runs(tmp_path / "base.parquet", BASE_J[:2])
    new = command_runs(tmp_path / "new.parquet", [120.0, 123.0])
    result = gate(base, new, "--metric", "energy_mj", "--fail-above", "5%")
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize(("base_runs", "new_runs"), [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("new_j", [120.0, 85.0])  # a rise undecided, and a fall with nothing tested
def test_too_few_runs_of_a_command_refuse_in_a_sentence_of_their_own(tmp_path, base_runs, new_runs, new_j):
    base = command_runs(tmp_path / "base.parquet", BASE_J[:base_runs])
    new = command_runs(tmp_path / "new.parquet", [new_j] * new_runs)
    for options in (["--metric", "energy_mj"], []):
        result = gate(base, new, *options, "--fail-above", "5%")
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and result.output.count("Error:") == 1
        message = " ".join(result.output.split())
        assert "hwprof run measures a command once per run" in message
        assert f"BASE holds {base_runs} run{'s' if base_runs > 1 else ''} of it and NEW {new_runs}" in message
        assert "give each side at least 2 runs of each command" in message
        for wrong in ("network", "--max-time", "raw samples", "gate on latency_ms"):
            assert wrong not in message


def test_a_network_merged_from_three_runs_a_side_has_its_energy_tested(tmp_path):
    """Merged reruns of measure: the network row's energy is tested by its runs, as its latency is."""

    def side(name, powers_w, seed):
        shards = [
            write_run(tmp_path / f"{name}{k}.parquet", power_w=power_w, seed=seed + k)
            for k, power_w in enumerate(powers_w)
        ]
        merge_datasets(shards, tmp_path / f"{name}.parquet")
        return tmp_path / f"{name}.parquet"

    base = side("base", [10.0, 10.2, 9.9], 1)
    report = compare(base, side("hotter", [12.0, 12.2, 11.9], 11))
    network = next(row for row in report["rows"] if row["kind"] == "network")
    assert network["runs"] == {"base": 3, "new": 3}
    assert network["energy_mj"]["verdict"] == HIGHER and network["power_w"]["verdict"] == HIGHER
    same = compare(base, side("same", [10.1, 9.95, 10.15], 21))
    network = next(row for row in same["rows"] if row["kind"] == "network")
    assert network["power_w"]["verdict"] == SAME


def test_a_network_of_one_run_a_side_keeps_its_energy_untested(tmp_path):
    base = write_run(tmp_path / "base.parquet", power_w=10.0, seed=1)
    report = compare(base, write_run(tmp_path / "new.parquet", power_w=12.0, seed=2))
    energy = report["rows"][0]["energy_mj"]
    assert energy["verdict"] == UNTESTED and energy["why"] == "one load window per row"
