"""Runs measured at different machine speeds are brought to one before they are combined."""

import numpy as np
import pandas as pd
import pytest

from fakes.synthetic import DEVICE, synthetic_frame
from hwprof.fitting.alignment import MIN_SHARED, align_runs
from hwprof.fitting.data import training_data
from hwprof.predictor.features import op_group
from hwprof.progress import Notes

SLOWER = {"conv": 1.3, "activation": 0.8, "pool": 1.1, "linear": 1.2, "network": 1.25}


def _rerun(frame, run_id, factors=SLOWER, seed=0, noise=0.02):
    """`frame` measured again while the machine ran each class of rows this much slower."""
    rng = np.random.default_rng(seed)
    classes = np.where(frame["kind"] == "network", "network", frame["op"].map(op_group))
    scale = np.array([factors[c] for c in classes]) * np.exp(rng.normal(0, noise, len(frame)))
    return frame.assign(
        run_id=run_id, **{c: frame[c] * scale for c in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high")}
    )


def test_a_slower_rerun_is_scaled_class_by_class_to_the_reference():
    first = synthetic_frame(n_networks=12, seed=50).assign(run_id="first")
    aligned, alignment = align_runs(pd.concat([first, _rerun(first, "again")], ignore_index=True))
    reference, rerun = alignment.runs
    assert reference.run_id == "first" and reference.reference is None
    assert rerun.reference == "first" and not rerun.left
    for cls, factor in SLOWER.items():
        assert rerun.factors[cls] == pytest.approx(factor, rel=0.03)
    again = aligned[aligned["run_id"] == "again"]["latency_ms"].to_numpy()
    assert np.allclose(again, first["latency_ms"].to_numpy(), rtol=0.1)
    said = alignment.summary().splitlines()
    models = ", ".join(pd.unique(first.loc[first["kind"] == "network", "model"])[:2])
    assert f"run first ({models} and 10 more)" in said[0]
    assert said[1].startswith(f"  run again ({models} and 10 more): network 1.2")
    (warning,) = alignment.warnings()  # conv ran 1.3x as long: the one class beyond WARN_FACTOR
    assert warning.startswith("run again (") and "conv layers 1.30x as long as run first" in warning
    assert "measure " + ", ".join(pd.unique(first.loc[first["kind"] == "network", "model"])) in warning


def test_the_fit_learns_from_aligned_targets_not_from_the_slow_runs_majority():
    first = synthetic_frame(n_networks=12, seed=51).assign(run_id="first")
    # two network-only reruns while the machine was slow throughout: a plain median would take their speed
    reruns = [_rerun(first[first["kind"] == "network"], f"slow{k}", seed=k) for k in (1, 2)]
    combined = training_data(pd.concat([first, *reruns], ignore_index=True), DEVICE)
    alone = training_data(first, DEVICE)
    assert np.allclose(combined.targets["latency_ms"], alone.targets["latency_ms"], rtol=0.05)
    unaligned = training_data(pd.concat([first, *reruns], ignore_index=True), DEVICE, align=False)
    assert np.median(unaligned.targets["latency_ms"] / alone.targets["latency_ms"]) > 1.15


def _sweep(seed, n_networks):
    layers = synthetic_frame(n_networks=n_networks, seed=seed)
    return layers[layers["kind"] == "layer"].assign(model=f"sweep:{seed}")


def test_a_run_reaches_the_reference_through_another_rerun():
    zoo = synthetic_frame(n_networks=12, seed=52)
    first = pd.concat([zoo, _sweep(60, 12)], ignore_index=True).assign(run_id="first")  # the largest run
    second = _rerun(pd.concat([zoo, _sweep(61, 4)], ignore_index=True), "second")
    third = _rerun(
        _sweep(61, 4), "third", {**SLOWER, "conv": 1.6, "activation": 1.0}, seed=3
    )  # shares only with second
    aligned, alignment = align_runs(pd.concat([first, second, third], ignore_index=True))
    by_id = {run.run_id: run for run in alignment.runs}
    assert by_id["second"].reference == "first" and by_id["third"].reference == "first"
    assert by_id["third"].factors["conv"] == pytest.approx(1.6, rel=0.03)
    assert by_id["third"].factors["activation"] == pytest.approx(1.0, rel=0.03)
    assert by_id["third"].left == ["linear"]  # 8 linear configurations in common, too few
    conv = aligned["op"] == "conv2d"
    third_rows = aligned[conv & (aligned["run_id"] == "third")]
    second_rows = aligned[conv & (aligned["run_id"] == "second") & (aligned["model"] == "sweep:61")]
    assert np.allclose(third_rows["latency_ms"].to_numpy(), second_rows["latency_ms"].to_numpy(), rtol=0.1)


def test_classes_and_runs_with_too_little_in_common_are_left_as_measured():
    first = synthetic_frame(n_networks=12, seed=54).assign(run_id="first")
    few = first[first["kind"] == "network"].head(MIN_SHARED - 1)
    unrelated = synthetic_frame(n_networks=6, seed=55).assign(run_id="other")
    unrelated["model"] = "elsewhere_" + unrelated["model"]
    unrelated["config"] = unrelated["config"] + " "  # configurations no other run measured
    frame = pd.concat([first, _rerun(few, "few"), unrelated], ignore_index=True)
    aligned, alignment = align_runs(frame)
    by_id = {run.run_id: run for run in alignment.runs}
    assert by_id["few"].reference is None and by_id["other"].reference is None  # references of their own
    assert by_id["few"].why_reference == "too little in common with the runs above"
    said = alignment.summary().splitlines()  # the two left alone for want of shared configurations: one line
    assert len(said) == 2 and said[1].startswith("  2 runs left as measured, too little in common")
    assert "few (" in said[1] and "other (elsewhere_" in said[1]
    assert alignment.warnings() == []
    assert np.array_equal(aligned["latency_ms"].to_numpy(), frame["latency_ms"].to_numpy())
    # a rerun of the networks only: its networks are aligned, nothing else is touched
    networks_only = _rerun(first[first["kind"] == "network"], "nets")
    _, alignment = align_runs(pd.concat([first, networks_only], ignore_index=True))
    assert set(alignment.runs[1].factors) == {"network"}


def test_runs_with_another_thread_count_are_not_aligned():
    first = synthetic_frame(n_networks=12, seed=56).assign(run_id="first")
    frame = pd.concat([first, _rerun(first, "two_threads")], ignore_index=True)
    aligned, alignment = align_runs(frame, {"first": 1, "two_threads": 2})
    assert alignment.runs[1].reference is None
    assert alignment.runs[1].why_reference == "measured with 2 threads, run first with 1"
    assert (
        "run two_thre (alpha_0, beta_1 and 10 more): left as measured (measured with 2 threads" in alignment.summary()
    )
    assert np.array_equal(aligned["latency_ms"].to_numpy(), frame["latency_ms"].to_numpy())


def test_rows_without_a_run_id_and_single_runs_are_untouched():
    frame = synthetic_frame(n_networks=4, seed=57)
    assert align_runs(frame)[1].runs == []
    one = frame.assign(run_id="only")
    aligned, alignment = align_runs(one)
    assert alignment.summary() is None and aligned is one


def test_fit_records_and_says_the_alignment(tmp_path):
    from fakes.synthetic import write
    from hwprof.fitting.fit import fit

    first = synthetic_frame(n_networks=10, seed=58).assign(run_id="first")
    dataset = write(pd.concat([first, _rerun(first, "again")], ignore_index=True), tmp_path / "d.parquet")
    said = []
    predictor = fit([dataset], family="polynomial", cv=False, progress=Notes(said.append))
    [reference, rerun] = predictor.doc["training"]["run_alignment"]
    assert reference["reference_run"] is None and rerun["reference_run"] == "first"
    assert rerun["factors"]["network"] == pytest.approx(1.25, rel=0.03)
    assert any(line.startswith("runs aligned") for line in said)


@pytest.mark.slow
def test_the_cli_aligns_by_default_and_can_be_told_not_to(tmp_path):
    import json

    from click.testing import CliRunner

    from fakes.synthetic import write
    from hwprof.cli import main

    first = synthetic_frame(n_networks=10, seed=59).assign(run_id="first")
    dataset = write(pd.concat([first, _rerun(first, "again")], ignore_index=True), tmp_path / "d.parquet")
    runner = CliRunner()
    for flags, aligned in (([], True), (["--no-align-runs"], False)):
        out = tmp_path / f"p{len(flags)}.json"
        result = runner.invoke(main, ["fit", dataset, "--out", str(out), "--no-cv", "--family", "polynomial", *flags])
        assert result.exit_code == 0, result.output
        assert ("runs aligned" in result.output) == aligned
        assert bool(json.loads(out.read_text())["training"]["run_alignment"]) == aligned
