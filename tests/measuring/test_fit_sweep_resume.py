"""Resuming a dataset whose default sweep was recorded takes its seconds and rounds as the earlier run recorded
them: a finished run's resume measures nothing more and repeats its figures; an interrupted sweep carries on."""

import json
import time

import pytest

import hwprof
from hwprof.measuring import fit_sweep, session
from hwprof.progress import Notes

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0)


def _runs(out):
    return json.loads((out.parent / (out.name + ".json")).read_text())["runs"]


def _resumed_notes(out) -> list[str]:
    notes: list[str] = []
    hwprof.measure(["mlp"], out=str(out), resume=True, progress=Notes(notes.append), **FAST)
    return notes


def test_resuming_a_complete_dataset_adds_no_rows_and_repeats_its_sweep(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    out = tmp_path / "mlp.parquet"
    first = hwprof.measure(["mlp"], out=str(out), **FAST)
    assert first["model"].astype(str).str.startswith("sweep:").any()
    (run,) = _runs(out)
    notes = _resumed_notes(out)
    assert len(hwprof.read_dataset(str(out))) == len(first)
    assert _runs(out) == [run]  # a resume that measured nothing adds no run
    record = run["fit_sweep"]
    said = f"layer sweep for the fit: {record['configurations']} configurations of {', '.join(record['ops'])} in "
    assert any(note.startswith(said) for note in notes)
    assert f"nothing was left to measure: earlier runs measured all of {out}" in notes


def test_resuming_a_dataset_whose_sweep_was_skipped_says_the_recorded_reason(tmp_path, monkeypatch):
    extract = session.run_and_extract

    def slow_extraction(*args, **kwargs):  # wall time the networks took that no row's measure_s holds
        time.sleep(0.5)
        return extract(*args, **kwargs)

    monkeypatch.setattr(session, "run_and_extract", slow_extraction)
    out = tmp_path / "mlp.parquet"
    hwprof.measure(["mlp"], out=str(out), **FAST)
    monkeypatch.setattr(session, "run_and_extract", extract)
    record = _runs(out)[-1]["fit_sweep"]
    assert record["networks_s"] > 0.5
    assert f"no layer sweep for the fit: {record['skipped_reason']}" in _resumed_notes(out)


def test_a_sweep_interrupted_after_a_round_carries_on_from_its_recorded_time_and_rounds(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    monkeypatch.setattr(fit_sweep, "budget_s", lambda share, networks_s: 1e9)  # every round
    monkeypatch.setattr(fit_sweep, "MAX_ROUNDS", 2)
    measure_group = session._Session.measure_group
    sweep_groups = []

    def stopped_in_the_second_round(self, spec, batch_size, with_layers, seq_len=None):
        if spec.sweep is not None:
            sweep_groups.append(spec.name)
            if len(sweep_groups) == 2:
                raise KeyboardInterrupt
        return measure_group(self, spec, batch_size, with_layers, seq_len)

    monkeypatch.setattr(session._Session, "measure_group", stopped_in_the_second_round)
    out = tmp_path / "mlp.parquet"
    with pytest.raises(KeyboardInterrupt):
        hwprof.measure(["mlp"], out=str(out), **FAST)
    interrupted = _runs(out)[-1]["fit_sweep"]
    assert interrupted["rounds"] == 1 and interrupted["sweep_s"] > 0
    monkeypatch.setattr(session._Session, "measure_group", measure_group)
    frame = hwprof.measure(["mlp"], out=str(out), resume=True, **FAST)
    resumed = _runs(out)[-1]["fit_sweep"]
    assert resumed["networks_s"] == interrupted["networks_s"]
    assert resumed["sweep_s"] > interrupted["sweep_s"]
    assert resumed["rounds"] == 2 * len(resumed["ops"])
    sweeps = frame[frame["model"].astype(str).str.startswith("sweep:")]
    assert resumed["configurations"] == len(sweeps)
