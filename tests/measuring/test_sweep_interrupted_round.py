"""A run stopped inside its default sweep's first round (a SIGTERM during "measuring sweep:...") recorded that
round's seconds as spent but no round finished: with a budget that round outlasted, the resume measured nothing
of the sweep and said "0 configurations of  in 4.3 s". Only finished rounds count now; the resume finishes it."""

import json
import time

import pytest

import hwprof
from hwprof.measuring import fit_sweep, session
from hwprof.measuring.fit_sweep import unfinished_sweep
from hwprof.progress import Notes

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0)


def _runs(out):
    return json.loads((out.parent / (out.name + ".json")).read_text())["runs"]


def test_a_round_cut_short_is_no_finished_round_and_the_resume_measures_it(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    monkeypatch.setattr(fit_sweep, "budget_s", lambda share, networks_s: 0.2)
    measure_group = session._Session.measure_group

    def stopped_late_in_the_first_round(self, spec, batch_size, with_layers, seq_len=None):
        if spec.sweep is not None:
            time.sleep(0.3)  # the round has outlasted the sweep's whole budget when the signal comes
            raise KeyboardInterrupt
        return measure_group(self, spec, batch_size, with_layers, seq_len)

    monkeypatch.setattr(session._Session, "measure_group", stopped_late_in_the_first_round)
    out = tmp_path / "mlp.parquet"
    with pytest.raises(KeyboardInterrupt):
        hwprof.measure(["mlp"], out=str(out), **FAST)
    interrupted = _runs(out)[-1]["fit_sweep"]
    assert interrupted["rounds"] == 0 and interrupted["configurations"] == 0
    assert interrupted["sweep_s"] < 0.2
    assert unfinished_sweep(_runs(out)) is not None  # show names the sweep a resume still has to measure
    monkeypatch.setattr(session._Session, "measure_group", measure_group)
    frame = hwprof.measure(["mlp"], out=str(out), resume=True, **FAST)
    resumed = _runs(out)[-1]["fit_sweep"]
    assert resumed["rounds"] >= 1 and resumed["ops"]
    sweeps = frame[frame["model"].astype(str).str.startswith("sweep:")]
    assert resumed["configurations"] == len(sweeps) > 0


def test_a_round_cut_short_by_an_earlier_version_is_finished_and_named(tmp_path, monkeypatch):
    """A dataset interrupted before this fix recorded the cut round's seconds as spent, with no round finished:
    its resume finishes the round whose rows it holds, and its note names the ops it measured."""
    monkeypatch.setattr(fit_sweep, "MIN_BUDGET_S", 0.0)
    monkeypatch.setattr(fit_sweep, "budget_s", lambda share, networks_s: 0.2)
    emit = session._Session.emit

    def stopped_after_a_sweep_row(self, rows, samples=None):
        emit(self, rows, samples)
        if rows and str(rows[0]["model"]).startswith("sweep:"):
            raise KeyboardInterrupt

    monkeypatch.setattr(session._Session, "emit", stopped_after_a_sweep_row)
    out = tmp_path / "mlp.csv"  # its provenance is the sidecar alone
    with pytest.raises(KeyboardInterrupt):
        hwprof.measure(["mlp"], out=str(out), **FAST)
    monkeypatch.setattr(session._Session, "emit", emit)
    provenance = out.parent / (out.name + ".json")
    document = json.loads(provenance.read_text())
    document["runs"][-1]["fit_sweep"]["sweep_s"] = 4.3  # as the earlier version recorded the cut round
    provenance.write_text(json.dumps(document))
    notes: list[str] = []
    frame = hwprof.measure(["mlp"], out=str(out), resume=True, progress=Notes(notes.append), **FAST)
    (note,) = [note for note in notes if note.startswith("layer sweep for the fit: ")]
    resumed = _runs(out)[-1]["fit_sweep"]
    assert resumed["rounds"] == 1 and resumed["ops"]
    assert f"{resumed['configurations']} configurations of {', '.join(resumed['ops'])} in " in note
    assert resumed["configurations"] == frame["model"].astype(str).str.startswith("sweep:").sum()
