"""The loop count is calibrated on warm calls, not on the cold first call: a cold call that lazy set-up or a
preemption slowed to 2 ms or more left a layer of a few microseconds at one call a sample, far under the 2 ms a
sample must last. Timed on a fake clock that advances only as the item's calls say, so nothing depends on the
machine's speed."""

import time
import types

import pytest

from hwprof.measuring import runner as runner_module
from hwprof.measuring.runner import Item, Method, Runner

MIN_SAMPLE_S = 0.002


class Clock:
    """perf_counter for the runner: each call of the item moves it on by that call's cost."""

    def __init__(self, costs_s):
        self.now = 0.0
        self.calls = 0
        self.costs_s = costs_s  # call number (from 0) -> seconds it takes

    def perf_counter(self) -> float:
        return self.now

    def call(self) -> None:
        self.now += self.costs_s(self.calls)
        self.calls += 1


@pytest.fixture
def prepared(monkeypatch):
    def prepare(costs_s, max_item_s=10.0):
        runner = Runner(Method(max_item_s=max_item_s, seed=0))  # its timer resolution read on the real clock
        runner.min_sample_s = MIN_SAMPLE_S
        clock = Clock(costs_s)
        fake_time = types.SimpleNamespace(perf_counter=clock.perf_counter, process_time=time.process_time)
        monkeypatch.setattr(runner_module, "time", fake_time)
        item = Item("layer", clock.call)
        runner._prepare(item)
        return item, clock

    return prepare


def test_a_slow_cold_call_does_not_leave_a_quick_layer_at_one_call_a_sample(prepared):
    item, _ = prepared(lambda k: 0.005 if k == 0 else 5e-6)  # 5 ms cold, then 5 us
    assert item.iterations >= MIN_SAMPLE_S / 5e-6
    assert item.iterations * 5e-6 >= MIN_SAMPLE_S


def test_a_warm_call_slowed_once_is_caught_by_the_warmed_up_calls(prepared):
    item, _ = prepared(lambda k: 0.005 if k in (0, 1) else 5e-6)  # the cold call and the first warm one slow
    assert item.iterations * 5e-6 >= MIN_SAMPLE_S


def test_a_layer_whose_warm_calls_last_2_ms_or_more_keeps_one_call_a_sample(prepared):
    item, _ = prepared(lambda k: 0.010 if k == 0 else 0.003)
    assert item.iterations == 1 and not item.done


@pytest.mark.parametrize("call_s, max_item_s", [(2.0, 1.0), (0.3, 0.1)])  # longer and shorter than the warm-up
def test_an_item_whose_cold_call_spent_its_budget_is_called_once(prepared, call_s, max_item_s):
    item, clock = prepared(lambda k: call_s, max_item_s=max_item_s)
    assert clock.calls == 1 and item.done and item.samples == [call_s] and item.iterations == 1


def test_a_slow_items_budget_is_not_spent_on_a_second_calibrating_call(prepared):
    """A network whose calls take 2 s had one of its ten seconds spent on a call that calibrates nothing (a
    call of 2 ms or more is one sample alone): the cold call goes straight to the warm-up, which one call ends
    (Method.max_warmup_s is shorter)."""
    item, clock = prepared(lambda k: 2.0)
    assert Method().max_warmup_s < 2.0
    assert item.iterations == 1 and clock.calls == 2 and clock.now == 4.0


def test_a_quick_layer_with_a_slow_cold_call_warms_up_at_its_calibrated_count(prepared):
    """Skipping the calibrating call after a 5 ms cold call left a 5 us layer to warm up one call at a time, and
    its samples began at a loop count never run before."""
    item, clock = prepared(lambda k: 0.005 if k == 0 else 5e-6)
    assert item.iterations * 5e-6 >= MIN_SAMPLE_S
    assert clock.calls - 2 >= 6 * item.iterations  # the warm-up's six samples, each of the calibrated count


def test_an_item_whose_budget_ends_in_its_warm_up_has_the_cpu_others_took_meanwhile(prepared, monkeypatch):
    """Its samples were kept without observing the machine, so on a loaded machine its row had no
    other_cpu_share (NaN), and fit could not weigh it as the contended row it was."""
    calls = []

    def cpu_clock():  # others busy on every CPU the whole time: 1 s of their CPU per fake second per CPU
        calls.append(None)
        now = runner_module.time.perf_counter()
        return now * runner_module.CPU_COUNT, 0.0

    monkeypatch.setattr(runner_module, "cpu_clock", cpu_clock)
    monkeypatch.setattr(Runner, "load_known", True, raising=False)
    item, _ = prepared(lambda k: 2.0, max_item_s=1.0)
    assert item.done and calls
    assert item.other_cpu_share == pytest.approx(1.0)
