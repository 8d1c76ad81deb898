"""The runner's method: calibration, interleaving, stopping rules."""

import time

from hwprof.measuring.runner import Item, Method, Runner


def test_items_reach_the_precision_target_with_enough_samples():
    method = Method(precision=0.5, min_samples=10, seed=3)
    results = Runner(method).measure([Item("a", lambda: sum(range(200))), Item("b", lambda: sum(range(50)))])
    assert {r.key for r in results} == {"a", "b"}
    for result in results:
        assert result.stable
        assert result.summary.n >= method.min_samples
        assert result.summary.relative_half_width <= method.precision
        assert result.summary.ci_low <= result.summary.median <= result.summary.ci_high


def test_loop_count_is_calibrated_so_a_sample_outlasts_the_floor():
    runner = Runner(Method(min_sample_s=0.002, precision=0.5, seed=1))
    (result,) = runner.measure([Item("tiny", lambda: None)])
    assert result.iterations * result.summary.median >= 0.5 * runner.min_sample_s
    assert result.iterations > 100


def test_items_are_interleaved_not_run_back_to_back():
    order = []
    items = [Item(key, (lambda key=key: order.append(key))) for key in "abcd"]
    Runner(Method(precision=1e-9, max_item_s=0.05, min_sample_s=1e-4, seed=5)).measure(items)
    sampling = order[len(order) // 2 :]  # past calibration and warm-up
    switches = sum(1 for first, second in zip(sampling, sampling[1:]) if first != second)
    assert switches >= 10
    assert set(sampling) == set("abcd")


def test_an_item_out_of_budget_stops_and_is_marked_unstable():
    def jittery():
        time.sleep(0.001 if int(time.perf_counter() * 1e6) % 2 else 0.003)

    method = Method(precision=1e-6, max_item_s=0.2, seed=2)
    (result,) = Runner(method).measure([Item("slow", jittery)])
    assert not result.stable
    assert result.summary.n < method.max_samples
    assert result.measure_s >= method.max_item_s


def test_results_arrive_through_the_callback_as_items_finish():
    seen = []
    Runner(Method(precision=0.5, seed=0)).measure([Item("x", lambda: None), Item("y", lambda: None)], seen.append)
    assert sorted(r.key for r in seen) == ["x", "y"]


def test_cpu_taken_by_other_processes_is_reported(monkeypatch):
    import hwprof.measuring.runner as runner

    busy = [0.0]

    def machine_busy_one_cpu_second_per_read():
        busy[0] += 1.0
        return busy[0], 0.0  # this process seems to use nothing: all of it is someone else

    quiet = Runner(Method(precision=0.5, seed=0)).measure([Item("quiet", lambda: None)])[0]
    monkeypatch.setattr(runner, "cpu_clock", machine_busy_one_cpu_second_per_read)
    (busy_result,) = Runner(Method(precision=0.5, seed=0)).measure([Item("busy", lambda: None)])
    assert busy_result.other_cpu_share > 1.0  # far more than the whole machine: the fake says so
    assert quiet.other_cpu_share is not None and quiet.other_cpu_share >= 0


def test_the_sample_count_never_passes_its_maximum():
    method = Method(precision=1e-9, max_item_s=30.0, max_samples=10, burst=3, min_sample_s=1e-5, seed=4)
    (result,) = Runner(method).measure([Item("quick", lambda: None)])
    assert not result.stable and result.summary.n == 10  # 3 + 3 + 3, then 1, not 12
