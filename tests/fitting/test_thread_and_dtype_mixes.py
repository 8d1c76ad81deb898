"""evaluate and fit --prior hold a predictor to one thread count, as fit does, and say which runs broke it."""

import json
import warnings

import pytest

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit


def with_runs(frame, path, runs):
    """`frame` written to `path` with a provenance sidecar holding these runs."""
    written = write(frame, path)
    path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": runs}))
    return written


def merged_thread_mix(path, device="synthetic-device", seed=70):
    """One file holding two runs of the same networks, at 1 and 2 threads: a merge of two shards."""
    one = synthetic_frame(n_networks=6, seed=seed, device=device).assign(run_id="aaaaaaaa1")
    two = synthetic_frame(n_networks=6, seed=seed, device=device).assign(run_id="bbbbbbbb2")
    import pandas as pd

    runs = [{"run_id": "aaaaaaaa1", "threads": 1}, {"run_id": "bbbbbbbb2", "threads": 2}]
    return with_runs(pd.concat([one, two], ignore_index=True), path, runs)


def test_evaluate_refuses_runs_at_two_thread_counts_as_fit_does(tmp_path):
    predictor, _ = fitted_predictor_path(tmp_path, cv=False)
    one = with_runs(
        synthetic_frame(n_networks=6, seed=70).assign(run_id="one"),
        tmp_path / "one.parquet",
        [{"run_id": "one", "threads": 1}],
    )
    two = with_runs(
        synthetic_frame(n_networks=6, seed=70).assign(run_id="two"),
        tmp_path / "two.parquet",
        [{"run_id": "two", "threads": 2}],
    )
    with pytest.raises(HwprofError, match=r"different thread counts \(1: one.parquet; 2: two.parquet\).*evaluate"):
        evaluate(predictor, [one, two])
    assert evaluate(predictor, [one])[0]["network"]["latency_ms"]["n"] == 12


def test_a_merged_file_s_thread_mix_names_its_runs_and_the_shards_as_the_fix(tmp_path):
    mixed = merged_thread_mix(tmp_path / "mix.parquet")
    with pytest.raises(HwprofError) as caught:
        fit([mixed], cv=False)
    message = str(caught.value)
    assert "1: run aaaaaaaa of mix.parquet; 2: run bbbbbbbb of mix.parquet" in message
    assert "the shards mix.parquet was merged from" in message
    assert "mix.parquet; 2: mix.parquet" not in message


def test_a_prior_board_measured_at_two_thread_counts_is_left_out_with_a_note(tmp_path):
    from hwprof.progress import Notes

    notes = []
    progress = Notes(notes.append)
    fleet_ok = with_runs(
        synthetic_frame(n_networks=20, seed=1, device="fast").assign(run_id="fast1"),
        tmp_path / "fast.parquet",
        [{"run_id": "fast1", "threads": 1, "device_name": "fast"}],
    )
    pi = merged_thread_mix(tmp_path / "pimix.parquet", device="Raspberry Pi 5", seed=2)
    new = synthetic_frame(n_networks=20, seed=1, device="new")
    train = write(new[new["model"].isin(sorted(set(new["model"]))[:5])], tmp_path / "new5.parquet")
    predictor = fit([train], family="polynomial", prior=[fleet_ok, pi], cv=False, progress=progress)
    assert [b["device_name"] for b in predictor.doc["training"]["prior"]["boards"]] == ["fast"]
    left_out = [note for note in notes if "Raspberry Pi 5" in note and "left out" in note]
    assert left_out and "1: run aaaaaaaa of pimix.parquet; 2: run bbbbbbbb of pimix.parquet" in left_out[0]
    with pytest.raises(HwprofError, match="different thread counts.*Raspberry Pi 5"):  # no board left to transfer from
        fit([train], family="polynomial", prior=[pi], cv=False, progress=progress)


def test_evaluate_suggests_the_predictor_s_own_board_of_a_fleet_file(tmp_path):
    predictor, _ = fitted_predictor_path(tmp_path, cv=False)  # fitted on 'Synthetic CPU'
    import pandas as pd

    fleet = pd.concat([synthetic_frame(n_networks=4, seed=3, device="A-board"), synthetic_frame(n_networks=4, seed=3)])
    with pytest.raises(HwprofError, match=r"device_name='Synthetic CPU'"):
        evaluate(predictor, [write(fleet, tmp_path / "fleet.parquet")])


def test_evaluate_notes_a_predictor_scored_on_another_dtype(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=5).assign(run_id="f32")
    f32 = with_runs(
        frame, tmp_path / "f32.parquet", [{"run_id": "f32", "threads": 1, "execution": {"dtype": "float32"}}]
    )
    predictor = fit([f32], cv=False, family="polynomial")
    bf16 = with_runs(
        frame.assign(run_id="bf"),
        tmp_path / "bf.parquet",
        [{"run_id": "bf", "threads": 1, "execution": {"dtype": "bfloat16"}}],
    )
    report, _ = evaluate(predictor, [bf16])
    assert "fitted on float32 data but this data was measured in bfloat16" in report["note"]
    # its own training data: in-sample, said so, and no other note
    assert evaluate(predictor, [f32])[0]["note"].startswith("every network scored was in the predictor's training data")


def test_an_unfinished_dataset_s_warning_points_at_the_caller_of_evaluate(tmp_path):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "dataset"))
    from test_unfinished import killed_run

    import hwprof

    path = tmp_path / "dd.parquet"
    killed_run(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(HwprofError):  # the killed run's rows are too few to fit; the warning came first
            hwprof.fit([path], cv=False)
    unfinished = [w for w in caught if issubclass(w.category, hwprof.UnfinishedDatasetWarning)]
    assert unfinished and unfinished[0].filename == __file__
