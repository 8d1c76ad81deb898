"""`hwprof show`: the end-of-run summary of any saved dataset, power and energy included where measured."""

import json

import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


@pytest.fixture
def dataset_with_power(tmp_path):
    return write(synthetic_frame(n_networks=3, with_power=True), tmp_path / "powered.parquet")


def test_show_gives_each_network_with_its_power_and_energy(dataset_with_power):
    result = CliRunner().invoke(main, ["show", dataset_with_power, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows"] > 0 and report["networks"]
    for entry in report["networks"]:
        assert entry["power_w"] > 0 and entry["energy_mj"] > 0
        assert entry["energy_mj"] == pytest.approx(entry["power_w"] * entry["latency_ms"], rel=1e-6)
    table = CliRunner().invoke(main, ["show", dataset_with_power])
    assert table.exit_code == 0 and "power W" in table.output and "energy mJ" in table.output


def test_show_without_a_sensor_says_unavailable_and_invents_nothing(tmp_path):
    out = tmp_path / "m.parquet"
    measured = CliRunner().invoke(
        main, ["measure", "mlp", "--out", str(out), "--power", "none", "--max-time", "0.3", "--quiet", "--json"]
    )
    assert measured.exit_code == 0, measured.output
    entry = json.loads(measured.stdout)["networks"][0]  # warnings (contention, say) go to stderr
    assert entry["power_w"] is None and entry["energy_mj"] is None and entry["power_source"] is None
    assert 0 <= entry["slow_sample_share"] <= 1  # from the run's own samples, before the file stamps its rows
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 0 and "power W" not in result.output
    assert "power unavailable" in result.output and "(complete)" in result.output


def test_show_gives_no_interval_for_a_median_from_too_few_samples(tmp_path):
    frame = synthetic_frame(n_networks=2)
    networks = frame.index[frame["kind"] == "network"]
    few, written_before = networks[0], networks[1]
    frame.loc[[few, written_before], "samples"] = 3
    frame.loc[few, ["latency_ms_ci_low", "latency_ms_ci_high"]] = None  # as hwprof writes it
    frame.loc[written_before, ["latency_ms_ci_low", "latency_ms_ci_high"]] = [71.981, 72.014]  # the samples' range
    path = write(frame, tmp_path / "few.parquet")
    entries = json.loads(CliRunner().invoke(main, ["show", path, "--json"]).output)["networks"]
    bounds = [(entry["latency_ms_ci_low"], entry["latency_ms_ci_high"]) for entry in entries]
    assert bounds.count((None, None)) == 2 and all(None not in pair for pair in bounds if pair != (None, None))
    table = CliRunner().invoke(main, ["show", path], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert table.output.count("unbounded (3 samples)") == 2 and "71.981" not in table.output


def test_a_tail_from_fewer_than_a_hundred_samples_says_how_many(tmp_path):
    frame = synthetic_frame(n_networks=2, batch_sizes=(1,))
    networks = frame.index[frame["kind"] == "network"]
    frame.loc[networks, "latency_ms_p90"] = [1.5, 2.5]
    frame.loc[networks, "latency_ms_p99"] = [1.75, 2.75]
    frame.loc[networks, "samples"] = [3, 400]  # a p99 of 3 samples is their slowest; of 400, a tail
    table = CliRunner().invoke(main, ["show", write(frame, tmp_path / "tails.parquet")], env={"COLUMNS": "200"})
    assert "1.500 / 1.750 (3 samples)" in table.output
    assert "2.500 / 2.750" in table.output and "2.750 (400" not in table.output


def test_show_of_a_missing_file_is_one_sentence(tmp_path):
    result = CliRunner().invoke(main, ["show", str(tmp_path / "none.parquet")])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "Traceback" not in result.output


def test_show_warns_of_rows_measured_beside_other_gpu_processes(tmp_path):
    frame = synthetic_frame(n_networks=2, with_power=True)
    frame["gpu_other_processes"] = [2 if i % 3 == 0 else 0 for i in range(len(frame))]
    path = write(frame, tmp_path / "shared.parquet")
    report = json.loads(CliRunner().invoke(main, ["show", path, "--json"]).output)
    assert sum(entry["gpu_shared_rows"] for entry in report["networks"]) == (len(frame) + 2) // 3
    table = CliRunner().invoke(main, ["show", path])
    assert "other processes used the GPU" in table.output and "gpu_other_processes" in table.output


def test_show_notes_gpu_networks_the_host_holds_back(tmp_path):
    """On a GPU, a network whose batch 8 costs no more than its batch 1 spends batch 1 waiting for kernel
    launches (eager ResNet-50 on an H200: 4.15 ms at batch 1, 4.17 ms at batch 32); show says so, once per
    device, naming the networks. CPU rows and networks that grow with the batch get no note."""
    frame = synthetic_frame(n_networks=3, batch_sizes=(1, 8))
    networks = frame["kind"] == "network"
    first, second, third = sorted(frame.loc[networks, "model"].unique())
    frame.loc[networks & (frame["model"] == first), "latency_ms"] = 4.0  # flat: held back by the host
    frame["device"] = "cuda:0"
    frame.loc[frame["model"] == third, "device"] = "cpu"  # flat too, but a CPU
    frame.loc[networks & (frame["model"] == third), "latency_ms"] = 4.0
    for column in ("latency_ms_ci_low", "latency_ms_ci_high"):
        frame.loc[networks, column] = frame.loc[networks, "latency_ms"]
    path = write(frame, tmp_path / "gpu.parquet")
    report = json.loads(CliRunner().invoke(main, ["show", path, "--json"]).output)
    assert [(e["model"], e["small_batch"], e["large_batch"]) for e in report["host_bound"]] == [(first, 1, 8)]
    assert report["host_bound"][0]["latency_growth"] == pytest.approx(1.0)
    table = CliRunner().invoke(main, ["show", path]).output
    assert (
        table.count("note: on cuda:0, 1 network(s)") == 1
        and f"{first} 1.00x" in table
        and second not in table.split("note:")[1]
    )


def two_speed_dataset(path, processes=1):
    """A dataset of two networks at batch 1, the first with a third of its samples 2.25x slower; and them."""
    from hwprof.samples import RawSamples, row_key, samples_frame, write_samples

    frame = synthetic_frame(n_networks=2)
    frame["run_id"], frame["processes"] = "run1", processes
    write(frame, path)
    networks = frame[(frame["kind"] == "network") & (frame["batch_size"] == 1)]  # alpha_0 and beta_1
    steady = tuple(0.0083 * (1 + 0.001 * (i % 7)) for i in range(90))
    two_speeds = tuple(0.0187 if i % 3 == 0 else 0.0083 for i in range(90))
    records = [
        ("run1", row_key(row.to_dict()), RawSamples(seconds, (1,) * len(seconds)))
        for (_, row), seconds in zip(networks.iterrows(), (two_speeds, steady))
    ]
    write_samples(path, samples_frame(records))
    return networks


def test_show_notes_networks_whose_samples_ran_at_two_speeds(tmp_path):
    """Two-thread runs on a VM switch between a fast and a slow mode; the raw samples show it. A network with
    a third of its samples 2.25x slower gets a note and its share in --json; a steady one gets neither."""
    path = str(tmp_path / "two_speeds.parquet")
    networks = two_speed_dataset(path)
    report = json.loads(CliRunner().invoke(main, ["show", path, "--json"]).output)
    shares = {(entry["model"], entry["batch_size"]): entry["slow_sample_share"] for entry in report["networks"]}
    slow_model, steady_model = networks["model"].iloc[0], networks["model"].iloc[1]
    assert shares[(slow_model, 1)] == pytest.approx(1 / 3) and shares[(steady_model, 1)] == 0.0
    assert shares[(slow_model, 4)] is None  # no samples recorded for it
    table = CliRunner().invoke(main, ["show", path]).output
    assert (
        "ran at two speeds" in table
        and f"{slow_model} batch 1 (33%)" in table
        and steady_model not in table.split("two speeds")[1]
    )
    assert "--threads 1" in table


@pytest.mark.parametrize("processes", [2, 3])
def test_the_two_speed_note_does_not_advise_the_processes_the_networks_were_measured_in(tmp_path, processes):
    path = str(tmp_path / "two_speeds.parquet")
    two_speed_dataset(path, processes)
    advice = " ".join(CliRunner().invoke(main, ["show", path]).output.split())  # the console wraps lines
    assert "ran at two speeds" in advice and "--threads 1 for timings a rerun reproduces" in advice
    assert ("--processes 3" in advice) == (processes < 3)


def test_show_without_raw_samples_gives_no_two_speed_share(dataset_with_power):
    report = json.loads(CliRunner().invoke(main, ["show", dataset_with_power, "--json"]).output)
    assert all(entry["slow_sample_share"] is None for entry in report["networks"])


def test_the_two_speed_note_is_for_cpu_networks_only():
    """Its advice is about CPU threads; a GPU network's two speeds (its clocks) get the share, not the note."""
    from hwprof.cli.measure import two_speed_lines

    entry = {"model": "m", "batch_size": 1, "slow_sample_share": 0.3}
    assert two_speed_lines([entry | {"device": "cpu"}]) and not two_speed_lines([entry | {"device": "cuda:0"}])
    assert not two_speed_lines([entry | {"device": "cpu", "slow_sample_share": 0.04}])


def test_the_two_speed_note_advises_one_thread_only_to_runs_that_used_more():
    from hwprof.cli.measure import two_speed_lines

    entry = {"model": "m", "batch_size": 1, "slow_sample_share": 0.3, "device": "cpu"}
    assert "--threads 1" in two_speed_lines([entry])[0]
    at_one_thread = two_speed_lines([entry], one_thread=True)[0]
    assert "--threads 1" not in at_one_thread and "--processes 3" in at_one_thread
    in_processes = two_speed_lines([entry | {"processes": 3}], one_thread=True)[0]
    assert in_processes.endswith("so a rerun may land elsewhere") and "--processes" not in in_processes


def test_the_two_speed_advice_ignores_command_runs_which_record_no_threads(tmp_path, capsys):
    """A dataset measured at one thread, then given a command by `hwprof run` (threads: None), is still a
    one-thread dataset: the advice is not to measure with --threads 1."""
    from hwprof.cli.measure import print_summary, summarize_frame
    from hwprof.dataset import DatasetWriter, read_dataset, read_provenance
    from hwprof.measuring.provenance import collect_provenance

    out = tmp_path / "m.parquet"
    frame = synthetic_frame(n_networks=1)
    writer = DatasetWriter(out, collect_provenance("cpu", 1, ["hwprof", "measure"]))
    writer.write(frame.to_dict("records"))
    writer.close()
    assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"]).exit_code == 0
    assert [run["threads"] for run in read_provenance(out)] == [1, None]
    summary = summarize_frame(read_dataset([out]))
    summary["networks"][0].update(slow_sample_share=0.3, device="cpu")
    print_summary(summary, str(out), read_provenance(out))
    advice = " ".join(capsys.readouterr().out.split())  # the console wraps lines
    assert "At one thread" in advice and "--threads 1" not in advice


def test_show_says_once_why_power_is_unavailable(tmp_path):
    out = tmp_path / "runs.parquet"
    for _ in range(2):
        assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--", "true"]).exit_code == 0
    text = CliRunner().invoke(main, ["show", str(out)]).output
    assert text.count("power unavailable: power measurement was turned off") == 1
    report = json.loads(CliRunner().invoke(main, ["show", str(out), "--json"]).output)
    assert report["power_unavailable"] == ["power measurement was turned off"]


def test_percentiles_over_several_processes_say_they_pool_every_processs_samples():
    from hwprof.cli.measure import _tail_cell

    assert _tail_cell((0.07, 16.0), 96, 2) == "0.070 / 16.000 (96 samples of 2 processes, pooled)"
    assert _tail_cell((0.07, 16.0), 500, 1) == "0.070 / 16.000" and _tail_cell((None, None), 5, 2) == "-"


def test_a_merged_dataset_shows_each_board_apart_and_reruns_once(tmp_path):
    """Reruns of one board give its median run and each layer's median, not their layers added up; boards apart."""
    from fakes.runs import LAYERS, write_run
    from hwprof.dataset import merge_datasets

    shards = [
        write_run(tmp_path / "a1.parquet", factor=1.0, device_name="board-a", seed=1),
        write_run(tmp_path / "a2.parquet", factor=1.2, device_name="board-a", seed=2),
        write_run(tmp_path / "a3.parquet", factor=1.1, device_name="board-a", seed=3),
        write_run(tmp_path / "b.parquet", factor=3.0, device_name="board-b", seed=4),
    ]
    merged = tmp_path / "fleet.parquet"
    merge_datasets(shards, merged)
    entries = json.loads(CliRunner().invoke(main, ["show", str(merged), "--json"]).output)["networks"]
    by_board = {entry["device_name"]: entry for entry in entries}
    assert set(by_board) == {"board-a", "board-b"} and len(entries) == 2
    a, b = by_board["board-a"], by_board["board-b"]
    assert a["layers"] == b["layers"] == LAYERS
    assert a["network_runs"] == 3 and b["network_runs"] == 1
    one_run = sum(1e-1 * (index + 3) for index in range(LAYERS))  # write_run's layer medians in ms, factor 1
    assert a["sum_of_layers_ms"] == pytest.approx(1.1 * one_run, rel=0.05)  # the middle run's, not 3.3x
    assert b["sum_of_layers_ms"] == pytest.approx(3.0 * one_run, rel=0.05)
    table = CliRunner().invoke(main, ["show", str(merged)], env={"COLUMNS": "200"}).output
    assert "on board-a (median of 3 runs)" in table and "on board-b" in table


def test_show_of_an_unfinished_processes_run_points_to_its_workers_folder(tmp_path):
    (tmp_path / "p.parquet.processes").mkdir()
    result = CliRunner().invoke(main, ["show", str(tmp_path / "p.parquet")])
    assert result.exit_code == 1 and "its --processes run did not finish" in result.output
    assert "--resume" in result.output and "p.parquet.processes" in result.output
