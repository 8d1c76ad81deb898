"""The same datasets give the same predictor whatever order they are given in: runs that tie as a reference,
repeats combined and cross-validation folds follow the runs, not the order of the files."""

import json

import numpy as np
import pandas as pd

from fakes.synthetic import DEVICE, synthetic_frame, write
from hwprof.fitting.alignment import align_runs
from hwprof.fitting.data import distrusted_rows, read_inputs, training_data
from hwprof.fitting.fit import fit
from hwprof.predictor.features import op_group
from hwprof.progress import Notes

TIMING = ("created", "fit_seconds")  # when the fit ran and how long it took


def _run(frame, run_id, factors, seed):
    """`frame` measured again with each class of rows this much slower, and a little noise: every run
    measured the same configurations, so all three tie as the alignment's reference but for their speed."""
    rng = np.random.default_rng(seed)
    classes = np.where(frame["kind"] == "network", "network", frame["op"].map(op_group))
    scale = np.array([factors.get(c, 1.0) for c in classes]) * np.exp(rng.normal(0, 0.05, len(frame)))
    return frame.assign(
        run_id=run_id, **{c: frame[c] * scale for c in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high")}
    )


def _runs():
    first = synthetic_frame(n_networks=6, batch_sizes=(1,), seed=71)
    return [
        _run(first, "zz", {"conv": 1.3, "network": 1.1}, 1),
        _run(first, "mm", {"conv": 0.8, "activation": 0.8, "pool": 0.8, "linear": 0.8, "network": 0.8}, 2),
        _run(first, "aa", {"conv": 0.9, "pool": 1.2}, 3),
    ]


def _without_timing(value):
    if isinstance(value, dict):
        return {key: _without_timing(item) for key, item in value.items() if key not in TIMING}
    if isinstance(value, list):
        return [_without_timing(item) for item in value]
    return value


def test_tied_runs_take_the_same_reference_whatever_the_order_of_the_rows():
    runs = _runs()
    forward = align_runs(pd.concat(runs, ignore_index=True))[1].to_json()
    backward = align_runs(pd.concat(runs[::-1], ignore_index=True))[1].to_json()
    assert forward == backward
    assert forward[0]["run_id"] == "mm"  # the fastest of the tied runs
    copies = [runs[0], runs[0].assign(run_id="yy")]  # one run in two files: the lower run_id
    references = [align_runs(pd.concat(pair, ignore_index=True))[1].runs[0].run_id for pair in (copies, copies[::-1])]
    assert references == ["yy", "yy"]


def test_the_same_datasets_in_another_order_give_the_same_predictor(tmp_path):
    paths = [write(run, tmp_path / f"{name}.parquet") for run, name in zip(_runs(), "abc")]
    unseen = training_data(synthetic_frame(n_networks=4, seed=72), DEVICE).networks
    docs, predictions, notes = [], [], []
    for order in (paths, [paths[2], paths[0], paths[1]]):
        said = []
        predictor = fit(order, family="polynomial", progress=Notes(said.append))
        notes.append(said)  # what the alignment says of the runs
        docs.append(_without_timing(json.loads(json.dumps(predictor.doc))))
        predictions.append(predictor.predict_features(predictor.features_from_batch(unseen))["latency_ms"])
    assert docs[0] == docs[1]
    assert np.array_equal(predictions[0], predictions[1])
    assert notes[0] == notes[1]


def test_the_rows_read_are_in_the_same_order_whatever_the_order_of_the_files(tmp_path):
    """Repeats are combined and folds drawn from these rows, and the most distrusted of them are named."""
    first = synthetic_frame(n_networks=3, batch_sizes=(1,), seed=73).assign(run_id="zz", other_cpu_share=0.2)
    second = synthetic_frame(n_networks=3, batch_sizes=(1,), seed=74).assign(run_id="aa", other_cpu_share=0.2)
    paths = [write(first, tmp_path / "a.parquet"), write(second, tmp_path / "b.parquet")]
    forward, forward_sources = read_inputs(paths)
    backward, backward_sources = read_inputs(paths[::-1])
    pd.testing.assert_frame_equal(forward, backward)
    assert forward_sources == backward_sources
    assert distrusted_rows(forward) == distrusted_rows(backward)
    assert list(pd.unique(forward["run_id"])) == ["aa", "zz"]
