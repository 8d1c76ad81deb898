"""A CPU hog started during a measurement: its bursts are discarded, the median and interval stay put.

The hog is two real busy-loop processes per CPU, started 0.2 s into the sampling of a small network
timed on two threads (a thread waiting on a descheduled peer makes a contended sample many-fold
slower) and running for longer than the network's time budget. The runner is shown only the hogs'
CPU time as "others": on a shared test machine, whatever else runs must not decide what is discarded.

What is asserted does not depend on how fast this machine is from one run to the next (on a shared
machine that moves by more than any interval within a run): the quiet run the row is held to is the
same measurement's own bursts taken before the hogs started and after they ended. Kept, the hogs'
slow samples would show in the row's interval, and in its median once they are many.
"""

import os
import subprocess
import sys
import textwrap

import pandas as pd
import psutil
import pytest

import hwprof
import hwprof.measuring.runner as runner_module
from hwprof.measuring.stats import summarize

HOG_S = 4.0  # wall time, whatever the load: longer than the budget below
HOG = f"import time\nend = time.perf_counter() + {HOG_S}\nwhile time.perf_counter() < end:\n    pass\n"
# the network alone, one item; precision out of reach, so it samples for its whole budget, with room for a first
# window that comes late (a loaded machine, the whole suite in one process): the hogs must start before it ends
SETTINGS = dict(power="none", layers=False, precision=1e-6, max_item_s=3.0, seed=0, max_other_share=0.05)
ALLOWANCE = 3.0  # times the budget: the wait outlasts the hogs by seconds, however slowly they start
HOG_AT_WINDOW = 1  # windows are judged every 0.2 s: the hogs start 0.2 s into sampling


@pytest.fixture
def threads():
    """Two intra-op threads where there are two CPUs: a thread that waits on a descheduled peer makes the
    hogs' effect on a sample large; the suite's setting back afterwards."""
    import torch

    before = torch.get_num_threads()
    yield min(2, os.cpu_count() or 1)
    torch.set_num_threads(before)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "small.py"
    path.write_text(
        textwrap.dedent("""
        import torch.nn as nn

        def small():
            net = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1))
            net.input_shape = (16, 32, 32)
            return net
        """)
    )
    return f"{path}:small"


class Hogs:
    """The busy loops, and cpu_clock as the runner reads it with their CPU time as the only other processes."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        self.watched: dict[int, psutil.Process] = {}
        self.cpu_s: dict[int, float] = {}

    def start(self) -> None:
        self.started = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2 * (os.cpu_count() or 1))]
        self.watched = {hog.pid: psutil.Process(hog.pid) for hog in self.started}

    def phase(self) -> str:
        if not self.started:
            return "before"
        return "after" if all(hog.poll() is not None for hog in self.started) else "running"

    def clock(self) -> tuple[float, float]:
        for pid, hog in self.watched.items():
            try:
                times = hog.cpu_times()
                self.cpu_s[pid] = times.user + times.system
            except psutil.Error:  # it has ended: its last reading stands
                pass
        own = runner_module.time.process_time()
        return own + sum(self.cpu_s.values()), own


@pytest.mark.slow
def test_a_cpu_hog_is_discarded_and_leaves_the_median_within_the_quiet_interval(model, threads, monkeypatch):
    hogs = Hogs()
    monkeypatch.setattr(runner_module, "cpu_clock", hogs.clock)
    monkeypatch.setattr(runner_module, "CONTENTION_ALLOWANCE", ALLOWANCE)
    settle = runner_module.Runner._settle
    bursts = []  # (item key, seconds per call, phase of the hogs when the window was judged)
    windows = []

    def settle_and_start_the_hogs_halfway(self, window, finish):
        phase = hogs.phase()  # before settle(): it may wait until the hogs have ended
        bursts.extend((item.key, burst, phase) for item, burst, _ in window.bursts)
        windows.append(phase)
        settle(self, window, finish)
        if len(windows) == HOG_AT_WINDOW:
            hogs.start()

    monkeypatch.setattr(runner_module.Runner, "_settle", settle_and_start_the_hogs_halfway)
    frame = hwprof.measure([model], threads=threads, **SETTINGS)
    for hog in hogs.started:
        hog.wait()

    assert hogs.started and sum(hogs.cpu_s.values()) > 0  # they ran, and the runner saw them
    assert frame["discarded_bursts"].sum() > 0
    assert (frame["other_cpu_share"] <= SETTINGS["max_other_share"]).all()  # nothing kept was taken beside them
    taken = pd.DataFrame(bursts, columns=["key", "burst", "phase"])
    assert (taken["phase"] == "before").any() and (taken["phase"] == "after").any()
    keys = frame["config_id"].where(frame["kind"] == "layer", "network")
    for key, row in zip(keys, frame.itertuples()):
        quiet = taken[(taken["key"] == key) & (taken["phase"] != "running")]["burst"].sum()
        interval = summarize(quiet)
        assert interval.ci_low * 1e3 <= row.latency_ms <= interval.ci_high * 1e3, (key, row.latency_ms, interval)
        # a median resists a few slow samples; an interval shows them: the row's lies among the quiet samples
        assert min(quiet) * 1e3 <= row.latency_ms_ci_low <= row.latency_ms_ci_high <= max(quiet) * 1e3, key


def test_the_python_api_warns_of_rows_timed_while_others_held_the_cpu(monkeypatch):
    """hwprof.measure returned rows with other_cpu_share 0.83 without a word, where the CLI warns."""
    import warnings

    import pandas as pd

    from hwprof.errors import HwprofWarning
    from hwprof.measuring import session

    rows = pd.DataFrame(
        {
            "kind": ["layer", "layer", "network"],
            "config_id": ["c1", "c1", None],  # one layer configuration held twice is one measurement
            "other_cpu_share": [0.6, 0.6, 0.83],
        }
    )
    monkeypatch.setattr(session, "_measure", lambda *args, **kwargs: rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        session.measure(["mlp"])
    (warning,) = [w for w in caught if issubclass(w.category, HwprofWarning)]
    assert "other processes took more than 5% of the CPU while 2 measurement(s) were taken" in str(warning.message)
    assert not str(warning.message).startswith("warning:")
