"""`OMP_NUM_THREADS=2 taskset -c 0 hwprof measure ...` measured with 2 threads on 1 CPU without a word, where
--threads 2 is refused (the same under a cgroup quota of 1 CPU): torch's default is checked now too, and
capped at the CPUs the process may use, in one line; a resume under the same limit carries on."""

import json
import warnings

import pytest
import torch

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.measuring import session

FAST = dict(power="none", precision=0.5, max_item_s=0.02, sweep_share=0, seed=0, layers=False)


@pytest.fixture
def two_default_threads(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    yield
    torch.set_num_threads(before)


def _measured(out, **settings):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hwprof.measure(["mlp"], out=str(out), **FAST, **settings)
    said = [str(w.message) for w in caught if issubclass(w.category, HwprofWarning)]
    runs = json.loads((out.parent / (out.name + ".json")).read_text())["runs"]
    return said, runs[-1]


@pytest.mark.parametrize(
    ("cpus", "quota", "cause"),
    [(1, None, "than the 1 CPU this process may use"), (2, 1.0, "than its cgroup's CPU quota of 1 CPU")],
)
def test_a_default_beyond_the_usable_cpus_is_capped_and_said(
    tmp_path, monkeypatch, two_default_threads, cpus, quota, cause
):
    monkeypatch.setattr(session, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(session, "cpu_quota", lambda: quota)
    said, run = _measured(tmp_path / "mlp.parquet")
    assert run["threads"] == 1 and run["plan"]["threads"] == 1
    (line,) = [text for text in said if "intra-op thread" in text]
    assert line.startswith("measuring with 1 intra-op thread, not the 2 of OMP_NUM_THREADS=2: more threads ")
    assert cause in line and line.endswith("give threads to choose")
    assert torch.get_num_threads() == 2  # the caller's setting is restored


def test_a_resume_under_the_same_limit_carries_on(tmp_path, monkeypatch, two_default_threads):
    monkeypatch.setattr(session, "usable_cpus", lambda: 1)
    monkeypatch.setattr(session, "cpu_quota", lambda: None)
    out = tmp_path / "mlp.parquet"
    _measured(out)
    said, run = _measured(out, resume=True)
    assert run["plan"]["threads"] == 1


def test_a_default_that_fits_says_nothing(tmp_path, monkeypatch, two_default_threads):
    monkeypatch.setattr(session, "usable_cpus", lambda: 2)
    monkeypatch.setattr(session, "cpu_quota", lambda: None)
    said, run = _measured(tmp_path / "mlp.parquet")
    assert run["threads"] == 2 and not [text for text in said if "intra-op thread" in text]
