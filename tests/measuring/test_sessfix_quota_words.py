"""The runner discards bursts the cgroup's CPU quota stopped as it discards contended ones, but the run blamed
other processes alone; and a quota below the threads (or below one CPU) went unsaid at the start, though every
latency then includes its stops."""

import warnings

import pandas as pd
import torch

import hwprof
from hwprof.measuring import runner, session
from hwprof.progress import Notes

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


def _discarded_note(throttled: bool) -> str:
    said = []
    frame = pd.DataFrame({"kind": ["network"], "discarded_bursts": [3], "latency_ms": [1.0]})
    session._report_discarded(frame, 0.05, Notes(said.append), 2.0, throttled)
    return said[0]


def test_discarded_bursts_name_the_quota_only_where_it_stopped_the_run():
    assert "held more than 5% of the CPU or the container's CPU quota stopped the process" in _discarded_note(True)
    assert "CPU quota" not in _discarded_note(False)


def quota(monkeypatch, cpus: float) -> None:
    """The cgroup's quota as the runner's rule and the start line both read it."""
    monkeypatch.setattr(session, "cpu_quota", lambda: cpus)
    monkeypatch.setattr(runner, "cpu_quota", lambda: cpus)


def test_a_quota_below_the_threads_is_said_at_the_start(monkeypatch):
    quota(monkeypatch, 0.5)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        hwprof.measure("mlp", layers=False, **FAST)
    said = [str(w.message) for w in seen if "CPU quota of" in str(w.message)]
    assert said == [
        "the container's CPU quota of 0.5 CPUs is less than 1 thread(s) need: latencies will include the time the "
        "quota stops the process"
    ]


def test_a_quota_that_fits_is_not_said_and_one_below_the_threads_is(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    quota(monkeypatch, 4.0)
    assert session._quota_below_threads() is None
    quota(monkeypatch, 1.5)
    assert "quota of 1.5 CPUs is less than 2 thread(s) need" in session._quota_below_threads()
