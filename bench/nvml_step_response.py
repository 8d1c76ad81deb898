"""Step response of hwprof's energy method against the realistic fake NVML (tests/fakes/fake_pynvml.py).

An item whose inferences keep a fake H100 busy (idle 70 W, load capped at its 700 W limit, 80 ms rise,
350 ms decay tail, counter and fields updated every 100 ms, power_usage a 1 s average, idle SM clock
345 MHz against 1755 MHz under the cap) goes through `measure_energy` RUNS times in a row. The truth is
known: idle 70 W, load 700 W, dynamic energy 630 W x latency per inference. Figures go to BENCHMARKS.md.

    python bench/nvml_step_response.py [--runs 6] [--clock sim|wall] [--out bench/results/x.json]
    python bench/nvml_step_response.py --sweep [--out bench/results/x.json]

`--sweep` varies the fake (update period, rise, decay, power levels, counter phase) against three
latencies and two NVML call costs, on the simulated clock, and reports the worst error of each.
`--clock wall` runs in real time (seconds per run), so hwprof code without the simulated clock, such as an
older checkout on PYTHONPATH, can be measured the same way: that is how the "before" figures were taken.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes.fake_pynvml import FakeGpu, make_fake_pynvml  # noqa: E402
from fakes.sim_clock import SimClock, WallClock  # noqa: E402

IDLE_W, LOAD_W = 70.0, 700.0
LATENCY_S = 0.004
SWEEP_GPUS = {
    "as above": {},
    "counter every 50 ms": {"update_s": 0.05},
    "counter every 200 ms": {"update_s": 0.2},
    "counter phase 0": {"update_phase_s": 0.0},
    "rise 300 ms": {"rise_s": 0.3},
    "decay 800 ms": {"decay_s": 0.8},
    "decay 1.5 s": {"decay_s": 1.5},
    "load 300 W, under the cap": {"load_w": 300.0},
    "idle 40 W, load 120 W": {"idle_w": 40.0, "load_w": 120.0, "power_limit_w": 300.0},
}
SWEEP_LATENCIES_S = (0.0005, 0.004, 0.05)
SWEEP_CALL_S = (0.0002, 0.003)


def sweep(runs: int) -> dict:
    """Worst relative error of idle, load and dynamic energy per (fake variant, NVML call cost)."""
    from hwprof.drivers.nvml import NvmlSensor
    from hwprof.measuring.energy import measure_energy

    table = []
    for name, settings in SWEEP_GPUS.items():
        for call_s in SWEEP_CALL_S:
            worst, flags = 0.0, set()
            for latency_s in SWEEP_LATENCIES_S:
                clock = SimClock()
                module = make_fake_pynvml([FakeGpu(**settings)], clock=clock, call_s=call_s)
                sys.modules["pynvml"] = module
                gpu = module.gpus[0]
                load_w = min(gpu.load_w, gpu.power_limit_w)
                dynamic_mj = (load_w - gpu.idle_w) * latency_s * 1000
                with NvmlSensor("cuda:0", clock=clock) as sensor:
                    for _ in range(runs):
                        r = measure_energy(lambda n: gpu.run_for(n * latency_s), latency_s, sensor)
                        errors = (
                            r["idle_power_w"] / gpu.idle_w,
                            r["power_w"] / load_w,
                            r["dynamic_energy_mj"] / dynamic_mj,
                        )
                        worst = max(worst, *(abs(e - 1) for e in errors))
                        flags |= set(r["power_flags"].split(",")) - {""}
            table.append({"gpu": name, "call_ms": call_s * 1e3, "max_abs_error": worst, "flags": sorted(flags)})
            print(f"| {name} | {call_s * 1e3:g} | {worst * 100:.2f}% | {', '.join(sorted(flags)) or '-'} |")
    return {"clock": "sim", "runs": runs, "latencies_s": SWEEP_LATENCIES_S, "table": table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--clock", choices=("sim", "wall"), default="sim")
    parser.add_argument("--out", default=None)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    if args.sweep:
        result = sweep(args.runs)
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        return 0
    clock = SimClock() if args.clock == "sim" else WallClock()
    module = make_fake_pynvml([FakeGpu(idle_w=IDLE_W, load_w=LOAD_W, power_limit_w=LOAD_W)], clock=clock)
    sys.modules["pynvml"] = module
    import hwprof
    from hwprof.drivers.nvml import NvmlSensor
    from hwprof.measuring.energy import measure_energy

    gpu = module.gpus[0]
    takes_clock = args.clock == "sim"  # in wall time every checkout reads real time itself
    started = time.perf_counter()
    rows = []
    with NvmlSensor("cuda:0", **({"clock": clock} if takes_clock else {})) as sensor:
        for _ in range(args.runs):
            result = measure_energy(lambda n: gpu.run_for(n * LATENCY_S), LATENCY_S, sensor)
            rows.append(result)
    truth_dynamic_mj = (LOAD_W - IDLE_W) * LATENCY_S * 1000

    def error(value, truth):
        return None if value is None else (value - truth) / truth

    runs = [
        {
            "idle_power_w": r["idle_power_w"],
            "power_w": r["power_w"],
            "dynamic_energy_mj": r["dynamic_energy_mj"],
            "idle_error": error(r["idle_power_w"], IDLE_W),
            "load_error": error(r["power_w"], LOAD_W),
            "dynamic_error": error(r["dynamic_energy_mj"], truth_dynamic_mj),
            "power_flags": r["power_flags"],
        }
        for r in rows
    ]
    flags = [set(r["power_flags"].split(",")) - {""} for r in runs]
    summary = {
        "hwprof": hwprof.__file__,
        "clock": args.clock,
        "runs": args.runs,
        "idle_w_range": [min(r["idle_power_w"] for r in runs), max(r["idle_power_w"] for r in runs)],
        "load_w_range": [min(r["power_w"] for r in runs), max(r["power_w"] for r in runs)],
        "dynamic_error_range": [min(r["dynamic_error"] for r in runs), max(r["dynamic_error"] for r in runs)],
        "max_abs_error": max(
            abs(r[key]) for r in runs for key in ("idle_error", "load_error", "dynamic_error") if r[key] is not None
        ),
        "idle_unstable_runs": sum("idle_unstable" in f for f in flags),
        "clocks_changed_share": statistics.fmean("clocks_changed" in f for f in flags),
        "throttled_share": statistics.fmean("throttled" in f for f in flags),
        "wall_s": time.perf_counter() - started,
        "per_run": runs,
    }
    text = json.dumps(summary, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
