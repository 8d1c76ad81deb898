"""evaluate says which scored networks the predictor was fitted on: their figures are in-sample, and kept."""

from fakes.synthetic import predictor_of_one_run, synthetic_frame, write
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit


def test_networks_the_predictor_trained_on_are_named_as_in_sample(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=7)
    trained = write(frame, tmp_path / "trained.parquet")
    predictor = fit([trained], family="polynomial")
    report, _ = evaluate(predictor, [trained])
    assert "every network scored was in the predictor's training data" in report["note"]
    assert report["network"]["latency_ms"]["n"] == len(frame[frame["kind"] == "network"])  # kept in the figures

    rerun = write(frame.assign(latency_ms=frame["latency_ms"] * 1.01, run_id="rerun"), tmp_path / "rerun.parquet")
    fresh = synthetic_frame(n_networks=12, seed=8)
    fresh = write(fresh[~fresh["model"].isin(frame["model"])].assign(run_id="rerun"), tmp_path / "fresh.parquet")
    report, _ = evaluate(predictor, [rerun, fresh])
    assert "8 network(s) (16 rows) of the " in report["note"], report["note"]  # a rerun of a trained network too


def test_networks_measured_in_the_training_runs_are_named_without_a_cross_validation(tmp_path):
    predictor = predictor_of_one_run(tmp_path)  # no cross-validation names its networks: its run does
    report, _ = evaluate(predictor, [tmp_path / "one.parquet"])
    assert "every network scored was in the predictor's training data" in report["note"]


def test_networks_it_never_saw_get_no_such_note(tmp_path):
    frame = synthetic_frame(n_networks=12, seed=10)
    models = sorted(frame["model"].unique())
    trained = write(frame[frame["model"].isin(models[:8])], tmp_path / "trained.parquet")
    unseen = write(frame[frame["model"].isin(models[8:])].assign(run_id="other"), tmp_path / "unseen.parquet")
    report, _ = evaluate(fit([trained], family="polynomial"), [unseen])
    assert "in-sample" not in report.get("note", "")
