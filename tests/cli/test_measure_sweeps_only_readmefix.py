"""A run of sweep:OP models alone printed an empty "networks" table and called its sweeps' seconds "networks" in
its timing line (`took 2.1 s: networks 1.6 s`), though it measured no network."""

import json

from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.dataset import read_dataset
from hwprof.measuring import session

SWEEP = "sweep:relu:4"
RUN = {"threads": 1, "usable_cpus": 1, "cpu_count": 1, "networks_s": 1.589, "fit_sweep": None}


def fake_measure(monkeypatch, models):
    """measure as if it had measured `models` (a sweep's rows are layers only: its network row is dropped)."""

    def measure(names, options, out, resume, argv, progress):
        write_run(out, models=models, provenance_fields=RUN)
        frame = read_dataset(out)
        return frame[~(frame["model"].str.startswith("sweep:") & frame["kind"].eq("network"))]

    monkeypatch.setattr(session, "measure", measure)


def measure(out, *options):
    result = CliRunner().invoke(main, ["measure", SWEEP, "--out", str(out), *options], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_sweeps_only_run_prints_no_networks_table_and_times_its_sweeps(monkeypatch, tmp_path):
    fake_measure(monkeypatch, (SWEEP,))
    output = measure(tmp_path / "m.parquet")
    assert "network ms" not in output  # no networks table, not even an empty one
    assert f"layer sweeps: {LAYERS} layer configurations in 1 sweep group(s), 0 unstable: --json" in output
    assert output.splitlines()[-1].endswith(": layer sweeps 1.6 s")
    assert "networks 1.6 s" not in output


def test_its_json_keeps_the_keys_and_networks_s_holds_the_sweeps_seconds(monkeypatch, tmp_path):
    fake_measure(monkeypatch, (SWEEP,))
    swept = json.loads(measure(tmp_path / "swept.parquet", "--json"))
    fake_measure(monkeypatch, ("net", SWEEP))
    both = json.loads(measure(tmp_path / "both.parquet", "--json"))
    assert set(swept) == set(both)
    assert swept["networks"] == [] and swept["networks_s"] == 1.589


def test_a_run_with_a_network_still_calls_its_seconds_the_networks(monkeypatch, tmp_path):
    fake_measure(monkeypatch, ("net", SWEEP))
    output = measure(tmp_path / "m.parquet")
    assert "network ms" in output and "(not networks, so not in the table)" in output
    assert output.splitlines()[-1].endswith(": networks 1.6 s")
