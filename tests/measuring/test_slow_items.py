"""An item whose calls are long against its --max-time budget: no warm-up once the cold call spent it, bursts
cut to the time left, no call the runner did not time, and a warning where a call still ran it over."""

import time

import pytest
import torch

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.measuring.runner import Item, Method, Runner

ANY_LOAD = 1.0  # max_other_share that keeps every burst: these tests are not about contention


class Sleeper:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        time.sleep(self.seconds)


def test_a_cold_call_that_spent_the_budget_is_not_followed_by_a_warm_up():
    slow = Sleeper(0.1)
    (result,) = Runner(Method(max_item_s=0.05, max_other_share=ANY_LOAD, seed=0)).measure([Item("slow", slow)])
    assert slow.calls == 1
    assert result.summary.n == 1 and not result.stable
    assert result.over_budget


def test_a_burst_is_cut_to_the_calls_the_budget_has_left():
    slow = Sleeper(0.04)
    method = Method(max_item_s=0.3, max_warmup_s=0.05, burst=10, precision=1e-9, max_other_share=ANY_LOAD, seed=0)
    (result,) = Runner(method).measure([Item("slow", slow)])
    # no call starts once the budget is spent: at most 8 calls of 0.04 s or more (a burst of 10 made 13)
    assert slow.calls <= 8
    assert result.measure_s < method.max_item_s + max(result.samples) + 0.01


def test_an_item_within_its_budget_is_not_over_it():
    (result,) = Runner(Method(max_item_s=0.05, precision=1e-9, max_other_share=ANY_LOAD, seed=0)).measure(
        [Item("quick", lambda: sum(range(100)))]
    )
    assert result.measure_s >= 0.05
    assert not result.over_budget


class SlowNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(8, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        time.sleep(0.15)
        return self.linear(x)


def test_a_slow_network_runs_once_to_be_extracted_and_once_timed_and_its_overrun_is_said():
    net = SlowNet()
    example = torch.randn(1, 8)
    with pytest.warns(
        HwprofWarning, match=r"SlowNet\S* at batch size 1 took 0\.1\d* s where max_item_s=0\.05 allows it"
    ):
        frame = hwprof.measure(
            [(net, example)], layers=False, max_item_s=0.05, sweep_share=0, power="none", max_other_share=1.0, seed=0
        )
    # the cold call's alone: no warm-up, no call to size the output; the extraction traced it symbolically, and
    # what the trace did to the module (calls += 1) was put back
    assert net.calls == 1
    (row,) = frame[frame["kind"] == "network"].to_dict("records")
    assert row["output_bytes"] == 3 * 4
    assert row["samples"] == 1


def _overrun_warning(**result) -> str:
    """The over-budget sentence for a Result, from the session's own wording."""
    from types import SimpleNamespace

    from hwprof.measuring.runner import Method, Result
    from hwprof.measuring.session import _Session
    from hwprof.progress import Notes

    said: list[str] = []
    session = SimpleNamespace(runner=SimpleNamespace(method=Method(max_item_s=0.1)), progress=Notes(said.append))
    defaults = dict(key="x", iterations=1, stable=False, measure_s=0.34, other_cpu_share=0.0)
    _Session._warn_over_budget(session, "add layer add_8", Result(**{**defaults, **result}))
    return said[0]


def test_the_overrun_names_the_sample_of_many_calls_and_the_busy_machine_not_one_short_call():
    from hwprof.measuring.stats import summarize

    # 319 calls of 36 us make a 12 ms sample: a quick call cannot outlast a budget, its loop on a busy machine can
    text = _overrun_warning(summary=summarize([36e-6] * 6), iterations=319, other_cpu_share=0.82, discarded_bursts=4)
    assert "one sample (319 calls of 3.6e-05 s) takes 0.011 s" in text
    assert "while other processes held 82% of the CPU (4 burst(s) discarded and waited out)" in text
    assert "rests on 6 sample(s)" in text
    quiet = _overrun_warning(summary=summarize([0.15]), iterations=1)
    assert "one sample (1 call of 0.15 s) takes 0.15 s, so" in quiet
