"""fit says what the data lacks (too few families, ops without enough configurations) and how to fix it."""

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.progress import Notes


def test_too_few_families_and_thin_ops_are_named_with_the_command_that_fixes_them(tmp_path):
    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"))
    said = []
    predictor = fit([write(frame, tmp_path / "small.parquet")], cv=False, progress=Notes(said.append))
    warnings = predictor.doc["training"]["warnings"]
    (families,) = [w for w in warnings if w.startswith("the networks come from")]
    assert "2 families (alpha, beta)" in families and "hwprof measure" in families
    thin = [w for w in warnings if "distinct measured layer configurations" in w]
    assert thin and "sweep:" in thin[0]
    assert all(f"note: {w}" in said for w in warnings)


def test_data_with_enough_families_and_configurations_gets_no_advice(tmp_path):
    frame = synthetic_frame(n_networks=40, seed=9)
    predictor = fit([write(frame, tmp_path / "rich.parquet")], family="polynomial", cv=False)
    assert predictor.doc["training"]["warnings"] == []


def _with_runs(frame, path, runs) -> str:
    """A CSV dataset whose provenance sidecar holds these runs."""
    import json

    write(frame, path)
    path.with_name(path.name + ".json").write_text(json.dumps({"schema_version": 1, "runs": runs}))
    return str(path)


def test_layers_timed_in_different_cache_modes_are_named(tmp_path):
    """A run that records no cache mode (measured before cold was the default) timed its layers warm; a
    network-only run timed no layers, so it mixes with either."""
    frame = synthetic_frame(n_networks=40, seed=9)
    half = frame["model"].isin(sorted(set(frame["model"]))[:20])
    cold = _with_runs(frame[half], tmp_path / "cold.csv", [{"run_id": "a", "cache": {"mode": "cold"}}])
    old = _with_runs(frame[~half], tmp_path / "old.csv", [{"run_id": "b"}])
    networks_only = _with_runs(frame[~half], tmp_path / "nets.csv", [{"run_id": "c", "plan": {"layers": False}}])
    said = []
    (mixed,) = fit([cold, old], family="polynomial", cv=False, progress=Notes(said.append)).doc["training"]["warnings"]
    assert "different cache modes (cold: cold.csv; warm: old.csv)" in mixed and f"warning: {mixed}" in said
    assert fit([cold, networks_only], family="polynomial", cv=False).doc["training"]["warnings"] == []


def test_ops_whose_sweep_rows_were_left_out_are_named_with_a_larger_sweep(tmp_path):
    import pandas as pd

    from hwprof.cli.fit import fit_summary

    frame = synthetic_frame(n_networks=20, seed=9)
    other = synthetic_frame(n_networks=6, seed=3)
    sweep = other[(other["kind"] == "layer") & (other["op"] == "conv2d")].drop_duplicates("config").copy()
    sweep["model"] = "sweep:conv2d:2:0"
    sweep["latency_ms"] = sweep["latency_ms"] * 8.0  # unlike every network's convolutions
    for column in ("latency_ms_ci_low", "latency_ms_ci_high"):
        if column in sweep:
            sweep[column] = sweep[column] * 8.0
    said = []
    dataset = write(pd.concat([frame, sweep], ignore_index=True), tmp_path / "with_sweep.parquet")
    predictor = fit([dataset], family="auto", cv=False, progress=Notes(said.append))
    assert predictor.doc["layer_models"]["latency_ms"]["ops"]["conv2d"]["cv"]["family"].endswith("without sweeps")
    shown = fit_summary(predictor.doc, "p.json")["layer_models"]["latency_ms"]["conv2d"]["family"]
    assert shown.endswith("without sweeps")  # fit's table and --json say so too
    (note,) = [w for w in predictor.doc["training"]["warnings"] if "left out" in w]
    assert "of conv2d were left out" in note and "hwprof measure sweep:conv2d:50:1" in note and f"note: {note}" in said
    assert (
        "--out larger_sweeps.parquet" in note
    )  # not the thin-ops note's sweeps.parquet: both run, one after the other


def test_an_op_given_the_larger_sweeps_command_is_not_named_again_as_thin():
    from hwprof.fitting.advice import data_advice
    from hwprof.fitting.data import training_data

    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta", "gamma"))
    data = training_data(frame, frame["device_name"].iloc[0], [])
    (thin,) = data_advice(data)
    assert thin.startswith("linear, maxpool2d have fewer than 10") and "their layer models extrapolate" in thin
    assert "sweep:linear sweep:maxpool2d" in thin
    (rest,) = data_advice(data, frozenset({"linear"}))
    assert rest.startswith("maxpool2d has fewer than 10") and "its layer model extrapolates" in rest
    assert "sweep:linear" not in rest
    assert data_advice(data, frozenset({"linear", "maxpool2d"})) == []


def test_advised_commands_measure_as_the_data_was_measured(tmp_path):
    import torch

    threads = torch.get_num_threads() + 1  # not this machine's default, which a command need not spell out
    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"))
    run = {"run_id": "a", "threads": threads, "device": "cuda:0", "execution": {"dtype": "float16"}}
    warnings = fit([_with_runs(frame, tmp_path / "t.csv", [run])], cv=False).doc["training"]["warnings"]
    flags = f" --threads {threads} --device cuda:0 --dtype float16 --out "
    (families,) = [w for w in warnings if w.startswith("the networks come from")]
    assert f"hwprof measure resnet18 mobilenet_v2 vgg11{flags}more.parquet" in families
    (thin,) = [w for w in warnings if "distinct measured layer configurations" in w]
    assert f"{flags}sweeps.parquet" in thin


def test_a_fit_that_keeps_its_bases_layer_models_advises_no_sweep(tmp_path):
    base = tmp_path / "base.json"
    fit([write(synthetic_frame(n_networks=10, seed=50), tmp_path / "base.parquet")], out=base, cv=False)
    small = write(synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta")), tmp_path / "small.parquet")
    assert any("sweep:" in w for w in fit([small], cv=False).doc["training"]["warnings"])
    warnings = fit([small], base=base, cv=False).doc["training"]["warnings"]
    assert warnings and not any("sweep:" in w for w in warnings)  # the families note stays


def test_evaluate_says_when_the_data_ran_at_another_thread_count_than_the_predictors(tmp_path):
    """fit refuses to mix thread counts; scoring a predictor on another count's data is a transfer, said so."""
    from hwprof.fitting.evaluate import evaluate

    frame = synthetic_frame(n_networks=8, seed=12)
    trained = _with_runs(frame, tmp_path / "two.csv", [{"run_id": "a", "threads": 2}])
    predictor = fit([trained], cv=False)
    other = _with_runs(frame, tmp_path / "one.csv", [{"run_id": "b", "threads": 1}])
    report, _ = evaluate(predictor, [other])
    assert report["note"] == (
        "the predictor was fitted on data measured at 2 thread(s) but this data at 1: these figures measure "
        "transfer between thread counts"
    )
    same, _ = evaluate(predictor, [_with_runs(frame, tmp_path / "again.csv", [{"run_id": "c", "threads": 2}])])
    assert "note" not in same


def test_advised_commands_name_outputs_that_do_not_exist_yet(tmp_path, monkeypatch):
    """Followed once, the advice wrote sweeps.parquet; a second fit must not advise it again, which measure
    refuses ("already exists"), nor a name whose journal or raw samples an earlier run left."""
    monkeypatch.chdir(tmp_path)
    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"))
    dataset = write(frame, tmp_path / "small.parquet")
    (tmp_path / "sweeps.parquet").write_bytes(b"")
    (tmp_path / "sweeps_2.parquet.partial.jsonl").write_bytes(b"")
    (tmp_path / "more.parquet.samples.parquet").write_bytes(b"")
    said = []
    fit([dataset], cv=False, progress=Notes(said.append))  # printed: the predictor file keeps plain names
    (families,) = [w for w in said if "the networks come from" in w]
    (thin,) = [w for w in said if "distinct measured layer configurations" in w]
    assert "--out more_2.parquet`" in families
    assert "--out sweeps_3.parquet`" in thin
