"""bench/nvml_validation.py: its step analysis against the realistic fake, and its answer without a GPU."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.fake_pynvml import FakeGpu, make_fake_pynvml
from fakes.sim_clock import SimClock

BENCH = Path(__file__).resolve().parents[2] / "bench" / "nvml_validation.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("nvml_validation", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_step_figures_from_raw_reads_of_the_fake():
    bench = load_bench()
    clock = SimClock()
    module = make_fake_pynvml([FakeGpu(idle_w=70.0, load_w=700.0, rise_s=0.08, decay_s=0.35)], clock=clock)
    gpu = module.gpus[0]
    reads = []

    def read_for(seconds):
        end = clock.monotonic() + seconds
        while clock.monotonic() < end:
            reads.append((clock.monotonic(), gpu.counter_mj(), gpu.instant_mw() / 1000, gpu.usage_mw() / 1000))
            clock.advance(0.002)

    read_for(3.0)
    load_s = clock.monotonic()
    gpu.set_busy(True)
    read_for(4.0)
    end_s = clock.monotonic()
    gpu.set_busy(False)
    read_for(4.0)
    counter = bench.counter_power([(t, e) for t, e, _, _ in reads])
    assert bench.update_period_s([(t, e) for t, e, _, _ in reads]) == pytest.approx(0.1, rel=0.05)
    for points in (counter, [(t, w) for t, _, w, _ in reads]):
        figures = bench.step_figures(points, load_s, end_s)
        assert figures["idle_w"] == pytest.approx(70.0, rel=0.01) and figures["load_w"] == pytest.approx(700, rel=0.01)
        assert 0.1 < figures["rise_90_s"] < 0.4 and 0.7 < figures["decay_10_s"] < 1.2  # 80 ms and 350 ms constants
    averaged = bench.step_figures([(t, w) for t, _, _, w in reads], load_s, end_s)
    assert averaged["rise_90_s"] > 0.8  # the 1 s moving average of power_usage lags the step
    assert bench.fmt(None) == "-" and bench.fmt("error: Not Supported") == "error: Not Supported"


@pytest.mark.slow
def test_without_a_gpu_it_says_why_in_one_line_and_fails():
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout.startswith("unavailable: ") and len(result.stdout.strip().splitlines()) == 1
