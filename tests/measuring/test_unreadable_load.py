"""Where the machine's CPU times cannot be read (/proc/stat closed: Android/Termux, hardened sandboxes), the
load check is off for the run, said once, and latencies are still measured."""

import warnings

import psutil
import pytest

from hwprof.measuring.runner import Item, LoadUnknownWarning, Method, Runner


def test_unreadable_cpu_times_turn_the_load_check_off_with_one_warning(monkeypatch):
    def denied(percpu=False):
        raise PermissionError(13, "Permission denied", "/proc/stat")

    monkeypatch.setattr(psutil, "cpu_times", denied)
    method = Method(precision=0.5, max_item_s=0.2, min_sample_s=1e-4, max_other_share=0.0, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = Runner(method).measure([Item("a", lambda: sum(range(100))), Item("b", lambda: None)])
    said = [w for w in caught if issubclass(w.category, LoadUnknownWarning)]
    assert len(said) == 1 and "cannot be read (PermissionError" in str(said[0].message)
    assert {result.key for result in results} == {"a", "b"}
    for result in results:
        assert result.summary.n >= 1 and result.summary.median > 0
        assert result.other_cpu_share is None and result.discarded_bursts == 0


def test_readable_cpu_times_say_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", LoadUnknownWarning)
        runner = Runner(Method(max_other_share=1.0))
    assert runner.load_known


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr("hwprof.measuring.runner.timer_resolution_s", lambda: 1e-9)
