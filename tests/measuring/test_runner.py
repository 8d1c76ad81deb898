"""The runner's method: calibration, interleaving, stopping rules, contention."""

import signal
import time

import pytest

import hwprof.measuring.runner as runner_module
from hwprof.measuring.runner import Item, Method, Runner

ANY_LOAD = 1.0  # max_other_share that keeps every burst: these tests are not about contention


class FakeMachine:
    """A CPU clock where others take `share` of the machine, as set; this process's own time is real."""

    def __init__(self, share: float = 0.0) -> None:
        self.share = share
        self.others_s = 0.0
        self.last = time.perf_counter()

    def clock(self) -> tuple[float, float]:
        now = time.perf_counter()
        self.others_s += (now - self.last) * runner_module.CPU_COUNT * self.share
        self.last = now
        own = time.process_time()
        return own + self.others_s, own


def test_items_reach_the_precision_target_with_enough_samples():
    method = Method(precision=0.5, min_samples=10, max_other_share=ANY_LOAD, seed=3)
    results = Runner(method).measure([Item("a", lambda: sum(range(200))), Item("b", lambda: sum(range(50)))])
    assert {r.key for r in results} == {"a", "b"}
    for result in results:
        assert result.stable
        assert result.summary.n >= method.min_samples
        assert result.summary.relative_half_width <= method.precision
        assert result.summary.ci_low <= result.summary.median <= result.summary.ci_high


def test_loop_count_is_calibrated_so_a_sample_outlasts_the_floor():
    runner = Runner(Method(min_sample_s=0.002, precision=0.5, max_other_share=ANY_LOAD, seed=1))
    (result,) = runner.measure([Item("tiny", lambda: None)])
    assert result.iterations * result.summary.median >= 0.5 * runner.min_sample_s
    assert result.iterations > 100


def test_items_are_interleaved_not_run_back_to_back():
    order = []
    items = [Item(key, (lambda key=key: order.append(key))) for key in "abcd"]
    Runner(Method(precision=1e-9, max_item_s=0.05, min_sample_s=1e-4, max_other_share=ANY_LOAD, seed=5)).measure(items)
    sampling = order[len(order) // 2 :]  # past calibration and warm-up
    switches = sum(1 for first, second in zip(sampling, sampling[1:]) if first != second)
    assert switches >= 10
    # every item's calls overlap every other's in time (back to back, one item's would all precede the next's);
    # under load an item may use up its budget early, so its calls need not reach the second half
    spans = {key: (order.index(key), len(order) - 1 - order[::-1].index(key)) for key in "abcd"}
    assert all(spans[x][0] < spans[y][1] for x in "abcd" for y in "abcd" if x != y)


def test_an_item_out_of_budget_stops_and_is_marked_unstable():
    def jittery():
        time.sleep(0.001 if int(time.perf_counter() * 1e6) % 2 else 0.003)

    method = Method(precision=1e-6, max_item_s=0.2, max_other_share=ANY_LOAD, seed=2)
    (result,) = Runner(method).measure([Item("slow", jittery)])
    assert not result.stable
    assert result.summary.n < method.max_samples
    assert result.measure_s >= method.max_item_s


def test_results_arrive_through_the_callback_as_items_finish():
    seen = []
    method = Method(precision=0.5, max_other_share=ANY_LOAD, seed=0)
    Runner(method).measure([Item("x", lambda: None), Item("y", lambda: None)], seen.append)
    assert sorted(r.key for r in seen) == ["x", "y"]


def test_cpu_taken_by_other_processes_is_reported(monkeypatch):
    machine = FakeMachine(share=0.5)
    monkeypatch.setattr(runner_module, "cpu_clock", machine.clock)
    (busy,) = Runner(Method(precision=0.5, max_other_share=ANY_LOAD, seed=0)).measure([Item("busy", lambda: None)])
    assert busy.other_cpu_share == pytest.approx(0.5, abs=0.05)
    assert busy.discarded_bursts == 0  # every burst kept, as asked


def test_bursts_taken_while_others_hold_the_cpu_are_discarded_and_the_runner_waits_for_quiet(monkeypatch):
    machine = FakeMachine()
    monkeypatch.setattr(runner_module, "cpu_clock", machine.clock)
    started = time.perf_counter()

    def call():  # others take half the machine from 0.3 s to 0.8 s into the run
        machine.clock()
        machine.share = 0.5 if 0.3 <= time.perf_counter() - started < 0.8 else 0.0

    # the budget, not the sample count, ends the item: a calibration on a busy machine makes samples short
    runner = Runner(Method(precision=1e-9, max_item_s=1.0, max_other_share=0.1, max_samples=10**6, seed=0))
    (result,) = runner.measure([Item("model", call)])
    assert result.discarded_bursts > 0
    assert result.other_cpu_share < 0.1  # what was kept was taken on a quiet machine
    assert runner.waited_s > 0  # it waited for the quiet spell instead of sampling through the busy one
    assert result.measure_s >= 1.0 + 0.5 * runner.waited_s  # the lost time did not eat the sampling budget


def test_waiting_for_quiet_is_bounded_by_the_item_budget_and_then_bursts_are_kept(monkeypatch):
    machine = FakeMachine(share=0.5)  # never quiet
    monkeypatch.setattr(runner_module, "cpu_clock", machine.clock)
    method = Method(precision=1e-9, max_item_s=0.3, max_other_share=0.1, seed=0)
    runner = Runner(method)
    (result,) = runner.measure([Item("model", lambda: None)])
    assert result.discarded_bursts > 0
    assert result.summary.n >= 1  # it measured after all, and says how busy the machine was
    assert result.other_cpu_share == pytest.approx(0.5, abs=0.05)
    assert runner.waited_s <= method.max_item_s + 0.1  # one window of slack


def test_the_sample_count_never_passes_its_maximum():
    method = Method(
        precision=1e-9, max_item_s=30.0, max_samples=10, burst=3, min_sample_s=1e-5, max_other_share=ANY_LOAD, seed=4
    )
    (result,) = Runner(method).measure([Item("quick", lambda: None)])
    assert not result.stable and result.summary.n == 10  # 3 + 3 + 3, then 1, not 12


def test_too_few_samples_to_bound_the_median_never_meet_a_precision_target():
    method = Method(
        precision=1e9, min_samples=1, max_samples=3, burst=3, min_sample_s=1e-5, max_other_share=ANY_LOAD, seed=4
    )
    (result,) = Runner(method).measure([Item("quick", lambda: None)])
    assert result.summary.n == 3 and not result.summary.bounded
    assert not result.stable  # however loose the target, three samples bound no median


def test_tail_percentiles_are_observed_samples_by_nearest_rank():
    from hwprof.measuring.stats import percentile

    samples = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(samples, 90) == 90.0 and percentile(samples, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 90) == 3.0  # few samples: the tail is the largest
    assert percentile([5.0], 99) == 5.0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_whose_exception_was_swallowed_still_stops_the_run(signum):
    """CPython drops an exception raised while a finalizer runs, and C code that calls `__hash__` or `__eq__`
    (a dict lookup) may clear it without a word; the runner still stops at the next burst, on Ctrl-C too."""
    import os

    from hwprof.interrupts import Interrupted, sigterm_interrupts

    calls = []

    def swallows_the_signal():
        calls.append(1)
        if len(calls) == 3:
            try:  # as a finalizer running at that moment would: the handler's exception goes nowhere
                os.kill(os.getpid(), signum)
                time.sleep(1)
            except KeyboardInterrupt:
                pass

    method = Method(precision=1e-9, max_item_s=60.0, min_sample_s=1e-4, max_other_share=ANY_LOAD, seed=0)
    start = time.monotonic()
    with sigterm_interrupts(), pytest.raises(Interrupted) as stopped:
        Runner(method).measure([Item("swallows", swallows_the_signal)])
    assert stopped.value.exit_code == 128 + signum
    assert time.monotonic() - start < 30  # stopped within a burst, not at the end of the item's 60 s budget
    given_back = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    assert signal.getsignal(signum) is given_back  # and the handler is put back afterwards


def test_a_spanning_item_is_sampled_until_the_other_items_are_done():
    """A whole network meets its precision in a few samples; it goes on being sampled while its layers are, so
    its samples come from the same stretch of time as theirs."""
    stamps = {"network": [], "layer": []}

    def steady():
        stamps["network"].append(time.perf_counter())
        time.sleep(0.001)

    def jittery():  # 1 and 2 ms in turn: never within 5%, so sampled to its budget
        stamps["layer"].append(time.perf_counter())
        time.sleep(0.001 if len(stamps["layer"]) % 2 else 0.002)

    method = Method(precision=0.05, min_samples=5, max_item_s=0.6, min_sample_s=1e-3, max_other_share=ANY_LOAD, seed=1)
    spans_s = {}
    for span in (False, True):
        stamps["network"].clear()
        stamps["layer"].clear()
        results = {
            r.key: r for r in Runner(method).measure([Item("network", steady, span=span), Item("layer", jittery)])
        }
        assert results["network"].stable and not results["layer"].stable
        spans_s[span] = stamps["network"][-1] - stamps["network"][0]
    assert spans_s[True] > 3 * spans_s[False]
    assert stamps["network"][-1] >= stamps["layer"][-1] - 0.05  # held until the layer was done


def test_a_spanning_item_that_met_its_precision_is_visited_once_per_span_visit():
    """Held to the end of its layers, a whole network would otherwise spend its whole budget there; once its
    precision is met it gets one burst per `span_visit_s`, and still reaches the layers' end."""
    stamps = {"network": [], "layer": []}

    def steady():
        stamps["network"].append(time.perf_counter())
        time.sleep(0.001)

    def jittery():  # never within 5%: sampled to its budget
        stamps["layer"].append(time.perf_counter())
        time.sleep(0.001 if len(stamps["layer"]) % 2 else 0.002)

    calls = {}
    for span_visit_s in (0.0, 0.1):
        stamps["network"].clear()
        stamps["layer"].clear()
        method = Method(
            precision=0.05,
            min_samples=5,
            max_item_s=1.5,
            min_sample_s=1e-3,
            max_other_share=ANY_LOAD,
            span_visit_s=span_visit_s,
            seed=1,
        )
        results = {
            r.key: r for r in Runner(method).measure([Item("network", steady, span=True), Item("layer", jittery)])
        }
        assert results["network"].stable
        assert stamps["network"][-1] >= stamps["layer"][-1] - 0.15  # still held until the layer was done
        calls[span_visit_s] = len(stamps["network"])
        gaps_s = [b - a for a, b in zip(stamps["network"], stamps["network"][1:])]
    spaced = [gap for gap in gaps_s if gap >= 0.09]
    assert len(spaced) >= 4  # the bursts after its precision was met came a visit apart
    assert calls[0.1] < calls[0.0] / 3


def test_the_runner_lets_go_of_its_items_when_measure_returns():
    """A runner lives through a whole run; the last group's items (and the tensors their calls hold) must not
    stay alive beside the next group's."""
    import gc
    import weakref

    class Tensor:
        pass

    held = Tensor()
    gone = weakref.ref(held)
    runner = Runner(Method(precision=0.5, max_other_share=ANY_LOAD, seed=0))
    runner.measure([Item("network", lambda held=held: held, span=True), Item("layer", lambda: None)])
    del held
    gc.collect()
    assert gone() is None
