"""--threads is checked against the CPUs the process may use (taskset, a container's cpuset), not the machine's."""

import os

import pytest

from hwprof.errors import HwprofError
from hwprof.measuring import runner


def test_threads_beyond_the_affinity_mask_are_refused(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    runner.check_threads(1)
    with pytest.raises(HwprofError, match="from 1 to the 1 CPU this process may use"):
        runner.check_threads(2)


def test_without_an_affinity_mask_the_machine_counts(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    runner.check_threads(4)
    with pytest.raises(HwprofError, match="the 4 CPUs this process may use"):
        runner.check_threads(5)
