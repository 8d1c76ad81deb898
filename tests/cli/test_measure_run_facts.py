"""measure's summary for CI: the user's networks only (layer sweeps apart), what the run took (in all, on the
networks, on the layer sweep, waiting for a quiet machine) and the intra-op threads on the CPUs it could use."""

import json

from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.cli.measure import power_line, run_facts, speeds_line, threads_line, timing_line
from hwprof.dataset import read_dataset
from hwprof.measuring import session

SWEEP_ROUND = "sweep:linear:2:39266700"
RUN = {
    "threads": 1,
    "usable_cpus": 1,
    "cpu_count": 4,
    "cpu_quota": None,
    "fit_sweep": {"share": 0.2, "share_allowed": 0.2, "sweep_s": 58.0, "networks_s": 220.0, "ops": ["linear"]},
    "contention": {"discarded_bursts": 3, "waited_s": 12.0},
}


def write_network_and_sweep_round(path, **provenance):
    """A run of `net` and one round of the default layer sweep (layers only: its network row is dropped)."""
    write_run(path, models=("net", SWEEP_ROUND), provenance_fields=provenance)
    frame = read_dataset(path)
    return frame[~(frame["model"].eq(SWEEP_ROUND) & frame["kind"].eq("network"))]


def fake_measure(monkeypatch):
    """measure as if it had measured `net` and a round of the default layer sweep in a run of RUN's provenance."""

    def measure(models, options, out, resume, argv, progress):
        return write_network_and_sweep_round(out, **RUN)

    monkeypatch.setattr(session, "measure", measure)


def test_measure_json_lists_networks_only_with_the_runs_time_and_threads(monkeypatch, tmp_path):
    fake_measure(monkeypatch)
    out = tmp_path / "m.parquet"
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [entry["model"] for entry in report["networks"]] == ["net"]
    assert all(entry["latency_ms"] > 0 for entry in report["networks"])
    assert [entry["model"] for entry in report["sweeps"]] == [SWEEP_ROUND]
    assert report["elapsed_s"] >= 0 and report["networks_s"] == 220.0 and report["waited_s"] == 12.0
    assert report["fit_sweep"]["sweep_s"] == 58.0 and report["fit_sweep"]["share"] == 0.2
    assert (report["threads"], report["usable_cpus"], report["cpu_count"]) == (1, 1, 4)


def test_measure_ends_with_its_threads_and_what_it_took(monkeypatch, tmp_path):
    fake_measure(monkeypatch)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(tmp_path / "m.parquet")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-2] == "1 intra-op thread; this process may use 1 of the machine's 4 CPUs"
    assert lines[-1].startswith("took ") and lines[-1].endswith(
        ": networks 3 min 40 s, layer sweep 58 s (20%), waited 12 s for a quiet machine"
    )
    assert SWEEP_ROUND not in result.output.split("layer sweeps:")[0]  # not a row of the networks table
    assert f"layer sweeps: {LAYERS} layer configurations in 1 sweep group(s)" in result.output


def test_the_time_line_reads_minutes_and_the_workers_waits():
    facts = run_facts({**RUN, "processes": [RUN, RUN]}, 302.0)
    assert facts["waited_s"] == 24.0
    assert (
        timing_line(facts)
        == "took 5 min 02 s: networks 3 min 40 s, layer sweep 58 s (20%), waited 24 s for a quiet machine"
    )
    assert timing_line(run_facts({}, 4.25)) == "took 4.2 s"


def test_the_threads_line_says_a_cgroup_quota_below_the_threads():
    line = threads_line(run_facts({"threads": 2, "usable_cpus": 2, "cpu_count": 2, "cpu_quota": 1.0}, 1.0))
    assert line.startswith("2 intra-op threads; this process may use 2 CPUs, under a cgroup quota of 1 CPU ")
    assert "--threads 1" in line
    assert threads_line(run_facts({}, 1.0)) is None


def test_after_a_resume_the_measurements_seconds_are_said_apart_from_this_commands():
    # a resume that took 1.2 s of a measurement whose networks took 3 min 40 s over its runs
    line = timing_line(run_facts(RUN, 1.2), resumed=True)
    assert line == (
        "took 1.2 s; the measurement, over all its runs: networks 3 min 40 s, layer sweep 58 s (20%), "
        "waited 12 s for a quiet machine"
    )


def test_measure_json_gives_null_power_flags_where_no_power_was_measured_and_says_the_run_completed(
    monkeypatch, tmp_path
):
    fake_measure(monkeypatch)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(tmp_path / "m.parquet"), "--json"])
    report = json.loads(result.stdout)
    assert report["status"] == "complete"
    assert [entry["power_flags"] for entry in report["networks"]] == [None]


def test_an_interrupted_measure_json_still_prints_a_document_saying_so(monkeypatch, tmp_path):
    out = tmp_path / "m.parquet"

    def measure(models, options, out, resume, argv, progress):
        write_network_and_sweep_round(out, **RUN)
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "measure", measure)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--json"])
    assert result.exit_code == 130
    assert json.loads(result.stdout) == {"out": str(out), "status": "interrupted", "kept": str(out)}


def test_the_power_line_names_the_summed_rails_the_board_and_each_rail_left_out():
    """measure's end of run never said which rails its power columns sum (a board's total read as the GPU's)."""
    run = {
        "power": {
            "source": "ina3221:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0",
            "sensor": {"board": "Jetson AGX Orin", "excluded_rails": {"VDDQ_VDD2_1V8AO": "already inside VIN_SYS_5V0"}},
        }
    }
    assert power_line(run_facts(run, 1.0)) == (
        "power: ina3221:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0 "
        "(Jetson AGX Orin; VDDQ_VDD2_1V8AO left out: already inside VIN_SYS_5V0)"
    )
    assert power_line(run_facts({"power": {"source": "rapl:package-0", "sensor": {}}}, 1.0)) == "power: rapl:package-0"


def test_no_power_line_where_no_sensor_gave_power():
    """An unavailable sensor is said by the summary's "power unavailable" line, with its reason, not here."""
    assert power_line(run_facts({"power": {"source": None, "unavailable_reason": "no sensor"}}, 1.0)) is None
    assert power_line(run_facts({}, 1.0)) is None


def test_the_workers_row_speeds_reach_the_speeds_line():
    """speeds_line tells a row-by-row difference from each worker's row_speeds, which run_facts did not pass on."""
    workers = [{"row_speeds": [0.6, 1.6]}, {"row_speeds": [0.62, 1.7]}]
    facts = run_facts({"processes": workers, "process_speeds": [0.95, 1.05]}, 1.0)
    assert facts["process_row_speeds"] == [[0.6, 1.6], [0.62, 1.7]]
    assert "differed row by row" in speeds_line(facts)
    assert run_facts({"process_speeds": None}, 1.0)["process_row_speeds"] is None  # one process
