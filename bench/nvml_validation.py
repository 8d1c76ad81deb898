"""Validate hwprof's NVML driver on a real GPU; figures go to BENCHMARKS.md.

1. Over a load window (default 10 s of back-to-back matmuls) the energy
   counter is compared with the integral of the instantaneous power samples;
   the target is agreement within 2%.
2. Idle power against power under that load.
3. Energy per inference of resnet50 at batch sizes 1 and 32 (A-B-A method).

Without a GPU it prints `unavailable: <why>` and exits 0: no figure is invented.

    python bench/nvml_validation.py [--device cuda:0] [--window-s 10]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time


def unavailable(why: str) -> int:
    print(f"unavailable: {why}")
    return 0


def integrate_samples_j(samples, start_s: float, stop_s: float) -> float:
    """Trapezoidal integral of (t, W) samples over [start_s, stop_s], held flat at the ends."""
    points = sorted((s.t_s, s.power_w) for s in samples)
    if not points:
        return float("nan")
    times = [start_s] + [t for t, _ in points] + [stop_s]
    watts = [points[0][1]] + [w for _, w in points] + [points[-1][1]]
    return sum((t1 - t0) * (w0 + w1) / 2 for t0, t1, w0, w1 in zip(times, times[1:], watts, watts[1:]))


def counter_vs_samples(sensor, torch, device, window_s: float) -> dict:
    size = 8192
    a = torch.randn(size, size, device=device, dtype=torch.float16)
    b = torch.randn(size, size, device=device, dtype=torch.float16)
    for _ in range(20):  # reach load clocks before the window opens
        a @ b
    torch.cuda.synchronize(device)
    sensor.start_window()
    start_s = time.monotonic()
    while time.monotonic() - start_s < window_s:
        for _ in range(10):
            a @ b
        torch.cuda.synchronize(device)
    window = sensor.stop_window()
    stop_s = time.monotonic()
    primary = [s for s in window.samples if s.sensor == sensor.primary_sensor]
    integrated_j = integrate_samples_j(primary, stop_s - window.duration_s, stop_s)
    return {
        "window_s": window.duration_s,
        "counter_j": window.counter_energy_j,
        "integrated_j": integrated_j,
        "ratio": integrated_j / window.counter_energy_j,
        "load_power_w": window.power_w,
        "samples": len(primary),
        "flags": window.flags,
    }


def idle_power(sensor, window_s: float) -> float:
    sensor.start_window()
    time.sleep(window_s)
    return sensor.stop_window().power_w


def resnet50_energy(sensor, torch, device, batch_size: int) -> dict:
    from hwprof.measuring.energy import measure_energy
    from hwprof.models.spec import resolve_model

    spec = resolve_model("resnet50")
    model = spec.module.to(device).eval()
    example = torch.randn(batch_size, *spec.input_shape, device=device)

    def run(n: int) -> None:
        for _ in range(n):
            model(example)
        torch.cuda.synchronize(device)

    with torch.inference_mode():
        run(10)
        latencies = []
        for _ in range(15):
            start = time.perf_counter()
            run(5)
            latencies.append((time.perf_counter() - start) / 5)
        latency_s = statistics.median(latencies)
        result = measure_energy(run, latency_s, sensor)
    return {"batch_size": batch_size, "latency_ms": latency_s * 1e3, **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--window-s", type=float, default=10.0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        return unavailable("torch is not installed")
    if not torch.cuda.is_available():
        return unavailable(
            "no CUDA GPU is visible to torch (torch.cuda.is_available() is False), "
            "so NVML cannot be validated on this machine"
        )
    from hwprof.drivers import open_sensor
    from hwprof.errors import HwprofError

    try:
        sensor = open_sensor("nvml", args.device)
    except HwprofError as error:
        return unavailable(str(error))
    device = torch.device(args.device)
    try:
        meta = sensor.metadata()
        print(f"# NVML validation, {datetime.date.today().isoformat()}")
        print(f"command: python bench/nvml_validation.py --device {args.device} --window-s {args.window_s}")
        print(f"machine: {meta['gpu']} ({meta['uuid']}), host {platform.node()}, torch {torch.__version__}")
        print(
            f"sensor: {sensor.source}, power field {meta['power_field']}, "
            f"counter update period {meta['update_period_s'] * 1e3:.1f} ms (probed: {meta['update_period_probed']})"
        )
        idle_w = idle_power(sensor, min(args.window_s, 5.0))
        check = counter_vs_samples(sensor, torch, device, args.window_s)
        verdict = "PASS" if abs(check["ratio"] - 1) <= 0.02 else "FAIL"
        print(
            f"counter vs integrated instantaneous power over {check['window_s']:.2f} s: "
            f"{check['counter_j']:.1f} J vs {check['integrated_j']:.1f} J, ratio {check['ratio']:.4f} "
            f"({check['samples']} samples) -> {verdict} (target within 2%)"
        )
        print(
            f"idle power {idle_w:.1f} W, load power {check['load_power_w']:.1f} W, "
            f"load/idle {check['load_power_w'] / idle_w:.2f}x; load-window flags: {check['flags'] or 'none'}"
        )
        print("| model | batch | latency_ms | power_w | idle_power_w | energy_mj | dynamic_energy_mj | flags |")
        print("|---|---|---|---|---|---|---|---|")
        for batch_size in (1, 32):
            row = resnet50_energy(sensor, torch, device, batch_size)
            print(
                f"| resnet50 | {batch_size} | {row['latency_ms']:.3f} | {row['power_w']:.1f} | "
                f"{row['idle_power_w']:.1f} | {row['energy_mj']:.1f} | {row['dynamic_energy_mj']:.1f} | "
                f"{row['power_flags'] or '-'} |"
            )
    finally:
        sensor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
