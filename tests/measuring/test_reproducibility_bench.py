"""bench/measure_reproducibility.py --equal-wall-time: the one-process side's per-item cap."""

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the script imports its neighbour results_io
    spec = importlib.util.spec_from_file_location("measure_reproducibility", BENCH / "measure_reproducibility.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("results_io", None)


def test_the_cap_spends_the_time_given_when_no_item_stops_sooner(bench):
    assert bench.equal_wall_cap_s([100.0, 100.0, 100.0, 100.0], 40.0) == (10.0, True)


def test_items_that_stop_sooner_leave_their_time_to_the_others(bench):
    cap_s, reachable = bench.equal_wall_cap_s([1.0, 2.0, 50.0, 50.0], 23.0)  # 1 + 2 + 10 + 10
    assert reachable and cap_s == pytest.approx(10.0)
    assert sum(min(cap_s, c) for c in [1.0, 2.0, 50.0, 50.0]) == pytest.approx(23.0)


def test_more_time_than_every_item_can_take_is_said(bench):
    assert bench.equal_wall_cap_s([1.0, 2.0], 10.0) == (2.0, False)
    assert bench.equal_wall_cap_s([1.0, 2.0], -1.0)[1] is False  # start-up alone outlasted the run


def _row(kind, config_id, latency_ms, samples, measure_s):
    return dict(kind=kind, config_id=config_id, latency_ms=latency_ms, iterations=1, samples=samples,
                measure_s=measure_s, processes=4)  # fmt: skip


N_PROCESS_ROWS = [  # two instances of one layer configuration (one item), another configuration, and the network
    _row("layer", "a", 1.0, 400, 1.4),
    _row("layer", "a", 1.0, 400, 1.4),
    _row("layer", "b", 10.0, 400, 8.0),
    _row("network", None, 20.0, 200, 8.0),
]


def test_an_item_would_stop_at_its_max_samples_after_its_warm_up(bench):
    # besides their kept samples, a worker spent 0.25 s on layer a and 1 s on the others, more than a warm-up
    # lasts (0.5 s): the rest was lost to contention
    assert bench.natural_stops_s(pd.DataFrame(N_PROCESS_ROWS)) == pytest.approx([1.25, 10.5, 20.5])


def test_the_calibrated_cap_gives_one_process_the_n_process_wall_time(bench, tmp_path, monkeypatch):
    many_out = tmp_path / "many.parquet"
    pd.DataFrame(N_PROCESS_ROWS).to_parquet(many_out)
    stops = bench.natural_stops_s(pd.DataFrame(N_PROCESS_ROWS))
    overhead_s, runner_work = 3.0, 1.4  # a one-process run: 3 s besides its items, which take 1.4 times their caps

    def one_process_wall_s(cap_s):
        return overhead_s + runner_work * sum(min(cap_s, stop) for stop in stops)

    def fake_run(model, out, threads, options):
        cap_s = float(options[options.index("--max-time") + 1])
        return pd.Series(dtype=float), {"wall_s": one_process_wall_s(cap_s), "items_measure_s": 3 * cap_s}

    monkeypatch.setattr(bench, "run_hwprof", fake_run)
    calibration = bench.calibrate_one_process("net", many_out, None, wall_s=30.0)
    assert calibration["reachable"] and calibration["trial"]["wall_over_caps"] == pytest.approx(runner_work, rel=0.01)
    assert one_process_wall_s(calibration["max_time_s"]) == pytest.approx(30.0, rel=0.01)
    assert type(calibration["max_time_s"]) is float  # told a process as text: no numpy type's repr


def test_where_one_process_cannot_fill_the_time_every_item_takes_all_its_samples(bench, tmp_path, monkeypatch):
    many_out = tmp_path / "many.parquet"
    pd.DataFrame(N_PROCESS_ROWS).to_parquet(many_out)
    stops = bench.natural_stops_s(pd.DataFrame(N_PROCESS_ROWS))

    def fake_run(model, out, threads, options):
        cap_s = float(options[options.index("--max-time") + 1])
        return pd.Series(dtype=float), {"wall_s": 3.0 + sum(min(cap_s, stop) for stop in stops), "items_measure_s": 0}

    monkeypatch.setattr(bench, "run_hwprof", fake_run)
    calibration = bench.calibrate_one_process("net", many_out, None, wall_s=100.0)  # the items take 32 s at most
    assert not calibration["reachable"] and calibration["max_time_s"] > max(stops)
