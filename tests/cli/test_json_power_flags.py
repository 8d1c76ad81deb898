"""measure's and show's --json give a network's power_flags as a list, as `run` and compare do: a comma-joined
string ("below_idle,throttled", "" when nothing was flagged) gave a dashboard's `len` and `in` wrong answers."""

import json

import pandas as pd
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.dataset import read_dataset
from hwprof.measuring import session


def flagged_frame(flags: list[str], with_power: bool = True) -> pd.DataFrame:
    """A dataset of one network per entry of `flags`, whose network rows carry those power flags."""
    frame = synthetic_frame(n_networks=len(flags), batch_sizes=(1,), with_power=with_power)
    networks = frame.index[frame["kind"] == "network"]
    frame.loc[networks, "power_flags"] = flags
    return frame


def show_json(path) -> dict:
    result = CliRunner().invoke(main, ["show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_show_json_gives_each_networks_power_flags_as_a_list(tmp_path):
    path = write(flagged_frame(["load_unstable,latency_shifted", ""]), tmp_path / "flags.parquet")
    flags = [entry["power_flags"] for entry in show_json(path)["networks"]]
    assert flags == [["latency_shifted", "load_unstable"], []]


def test_show_json_gives_null_power_flags_where_no_power_was_measured(tmp_path):
    path = write(flagged_frame([None], with_power=False), tmp_path / "none.parquet")
    assert [entry["power_flags"] for entry in show_json(path)["networks"]] == [None]


def test_a_network_of_several_runs_lists_every_runs_flags_once(tmp_path):
    first = flagged_frame(["below_idle,latency_shifted"]).assign(run_id="a")
    second = flagged_frame(["latency_shifted"]).assign(run_id="b")
    path = write(pd.concat([first, second], ignore_index=True), tmp_path / "reruns.parquet")
    (entry,) = show_json(path)["networks"]
    assert entry["network_runs"] == 2 and entry["power_flags"] == ["below_idle", "latency_shifted"]


def test_measure_json_gives_power_flags_as_a_list(monkeypatch, tmp_path):
    def measure(models, options, out, resume, argv, progress):
        return read_dataset(write(flagged_frame(["throttled"]), out))

    monkeypatch.setattr(session, "measure", measure)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(tmp_path / "m.parquet"), "--json"])
    assert result.exit_code == 0, result.output
    assert [entry["power_flags"] for entry in json.loads(result.stdout)["networks"]] == [["throttled"]]


def test_the_summary_table_still_shows_one_flag_a_line(tmp_path):
    path = write(flagged_frame(["load_unstable,latency_shifted", ""]), tmp_path / "flags.parquet")
    result = CliRunner().invoke(main, ["show", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.rstrip(" │").endswith("latency_shifted") for line in lines)
    assert any(line.rstrip(" │").endswith("load_unstable") for line in lines)
