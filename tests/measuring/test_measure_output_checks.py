"""measure's output checks: made before the models load, a file that is not a dataset named as such, a resume
with nothing to resume said in a note, and the same models in another order resumed."""

import time

import pytest

from hwprof.errors import HwprofError
from hwprof.files import ExclusiveLock
from hwprof.measuring import session
from hwprof.progress import Notes


@pytest.fixture
def no_model_loads(monkeypatch):
    def resolve_model(*args, **kwargs):
        raise AssertionError("the models were loaded before the output was checked")

    monkeypatch.setattr(session, "resolve_model", resolve_model)


def test_an_existing_output_is_refused_before_the_models_load(tmp_path, no_model_loads):
    out = tmp_path / "e1.parquet"
    out.write_bytes(b"")
    with pytest.raises(HwprofError, match="not a hwprof dataset"):
        session.measure("mlp", out=str(out))


def test_an_output_being_written_is_refused_before_the_models_load(tmp_path, no_model_loads):
    out = tmp_path / "live.parquet"
    with ExclusiveLock(out, "hwprof measure"):
        with pytest.raises(HwprofError, match="being written by hwprof measure"):
            session.measure("mlp", out=str(out), resume=True)


@pytest.mark.parametrize("resume", [False, True])
def test_a_file_that_is_not_a_dataset_is_named_so_with_or_without_resume(tmp_path, resume, no_model_loads):
    out = tmp_path / "notds.parquet"
    out.write_text("not a table\n")
    with pytest.raises(HwprofError, match=r"notds.parquet is not a hwprof dataset.*choose another path") as error:
        session.measure("mlp", out=str(out), resume=resume)
    assert "--resume" not in str(error.value) and "resume=True" not in str(error.value)


def test_resume_with_nothing_to_resume_says_so_and_names_the_dataset_beside_it(tmp_path):
    (tmp_path / "e1.parquet").write_bytes(b"")
    notes = []
    session._note_nothing_to_resume(tmp_path / "e1.csv", Notes(notes.append))
    session._note_nothing_to_resume(tmp_path / "typo.parquet", Notes(notes.append))
    session._note_nothing_to_resume(tmp_path / "e1.parquet", Notes(notes.append))  # there is a run to resume
    assert len(notes) == 2
    assert "nothing to resume" in notes[0] and f"resume it with out={tmp_path / 'e1.parquet'}" in notes[0]
    assert "typo.parquet does not exist" in notes[1] and "is there" not in notes[1]
    assert "\u27e8" not in notes[0]  # the setting is worded for the caller, not left as a marker


def test_a_python_caller_without_progress_gets_nothing_to_resume_as_a_warning(tmp_path):
    from hwprof.errors import HwprofWarning
    from hwprof.progress import Warnings

    with pytest.warns(HwprofWarning, match="nothing to resume"):
        session._note_nothing_to_resume(tmp_path / "typo.parquet", Warnings())


def test_a_resume_of_a_missing_output_notes_it_and_measures(tmp_path):
    notes = []
    started = time.perf_counter()
    session.measure(
        "mlp",
        out=str(tmp_path / "typo.parquet"),
        resume=True,
        progress=Notes(notes.append),
        layers=False,
        max_item_s=0.05,
        sweep_share=0,
        power="none",
    )
    assert any("nothing to resume" in note for note in notes)
    assert time.perf_counter() - started < 10


PLAN = {"batch_sizes": [1], "processes": 1, "cache": "warm"}


class _Writer:
    def __init__(self, models):
        self.path = "run.parquet"
        self.provenance = {"device_name": "cpu", "host": "h"}
        self.previous_runs = [{"plan": {"models": models, **PLAN}, "device_name": "cpu", "host": "h"}]
        self.closed = False

    def close(self, status=None):
        self.closed = True


def test_the_same_models_in_another_order_resume():
    writer = _Writer(["mlp", "vit_tiny"])
    session._check_same_plan(writer, {"models": ["vit_tiny", "mlp"], **PLAN})
    assert not writer.closed
    with pytest.raises(HwprofError, match="other models"):
        session._check_same_plan(writer, {"models": ["vit_tiny", "resnet18"], **PLAN})
