"""measure() without out= keeps its rows in memory: an interrupt must not take them with it."""

import pytest

import hwprof
from hwprof.measuring import session

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


def _interrupted_in_second_group(monkeypatch, error: BaseException) -> None:
    measure_group = session._Session.measure_group
    calls = []

    def measured_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return measure_group(self, *args, **kwargs)

    monkeypatch.setattr(session._Session, "measure_group", measured_once)


def test_an_interrupt_hands_the_rows_measured_so_far_over_on_the_exception(monkeypatch):
    _interrupted_in_second_group(monkeypatch, KeyboardInterrupt())
    with pytest.warns(hwprof.HwprofWarning, match="interrupted: the .* rows measured so far are on the exception"):
        with pytest.raises(KeyboardInterrupt) as raised:
            hwprof.measure("mlp", batch_sizes=[1, 2], **FAST)
    frame = raised.value.frame
    assert len(frame) > 0 and frame["batch_size"].nunique() == 1  # the first group's rows, all of them
    (run,) = frame.attrs["provenance"]
    assert run["status"] == "interrupted" and run["rows"] == len(frame)


def test_a_run_that_fails_in_a_later_group_hands_its_rows_over_too(monkeypatch):
    _interrupted_in_second_group(monkeypatch, hwprof.HwprofError("the second group failed"))
    with pytest.warns(hwprof.HwprofWarning, match="stopped: the"):
        with pytest.raises(hwprof.HwprofError) as raised:
            hwprof.measure("mlp", batch_sizes=[1, 2], **FAST)
    assert len(raised.value.frame) > 0 and raised.value.frame.attrs["provenance"][0]["status"] == "failed"


@pytest.mark.parametrize("out", [None, "m.parquet"])
def test_a_run_made_while_its_caller_handles_an_exception_is_complete_and_leaves_it_alone(tmp_path, out):
    """Called inside the caller's own `except` block, a run that finishes is complete: the caller's exception is
    not this run's, gets no frame, and no warning says rows were handed over."""
    import warnings

    from hwprof.dataset import read_provenance

    path = None if out is None else str(tmp_path / out)
    try:
        raise ValueError("the caller's own")
    except ValueError as handled:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            frame = hwprof.measure("mlp", layers=False, out=path, **FAST)
        assert not hasattr(handled, "frame")
    assert not any("measured so far are on the exception" in str(w.message) for w in said)
    assert frame.attrs["provenance"][-1]["status"] == "complete"
    if path is not None:
        assert read_provenance(path)[-1]["status"] == "complete"
