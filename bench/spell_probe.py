"""What is slow during a two-thread slow spell? No hwprof measurement involved; hwprof only builds the model.

Blocks of a few seconds, one after another in one process: the network's forward pass at `--threads`, then
a 256x256 matmul and a 64-channel 3x3 convolution at `--threads` and at one thread, the network at one
thread, and the convolution at one thread pinned to each CPU in turn. A block whose network time is 1.4x
the fastest quarter's or more is "slow"; the report gives each probe's median over slow and normal blocks.
A spell that slowed the CPUs themselves would show in the pinned probes; one that slowed parallel compute,
in the matmul and convolution at `--threads`.

With `--compare-env VAR=VALUE`, fresh processes instead time the network at `--threads` for 20 s each,
alternately without and with VAR=VALUE in their environment (spells come and go within minutes, so the
two sides share them): the count of slow one-second blocks on each side says whether the setting avoids
spells.

    python bench/spell_probe.py --minutes 3
    python bench/spell_probe.py --compare-env OMP_WAIT_POLICY=ACTIVE --cycles 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from results_io import emit

from hwprof.measuring.stats import TWO_SPEED_FACTOR as SLOW  # a block this many times the fastest's is slow


def timed_ms(fn, seconds: float) -> float:
    times_ms = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        times_ms.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times_ms)


def network(model: str):
    import torch

    from hwprof.models.spec import resolve_model

    spec = resolve_model(model)
    module = spec.module.eval()
    x = torch.randn(1, *spec.input_shape)
    return lambda: module(x)


def probe_blocks(model: str, threads: int, minutes: float) -> list[dict]:
    import torch

    forward = network(model)
    a = torch.randn(256, 256)
    conv, xc = torch.nn.Conv2d(64, 64, 3, padding=1).eval(), torch.randn(1, 64, 32, 32)
    cpus = sorted(os.sched_getaffinity(0))
    blocks = []
    stop = time.monotonic() + 60 * minutes
    with torch.inference_mode():
        torch.set_num_threads(threads)
        timed_ms(forward, 0.5)  # warm-up
        while time.monotonic() < stop:
            block = {}
            torch.set_num_threads(threads)
            block["network_ms"] = timed_ms(forward, 1.0)
            block["matmul_ms"] = timed_ms(lambda: a @ a, 0.1)
            block["conv_ms"] = timed_ms(lambda: conv(xc), 0.1)
            torch.set_num_threads(1)
            block["network_1thread_ms"] = timed_ms(forward, 0.5)
            block["matmul_1thread_ms"] = timed_ms(lambda: a @ a, 0.1)
            block["conv_1thread_ms"] = timed_ms(lambda: conv(xc), 0.1)
            for cpu in cpus:
                os.sched_setaffinity(0, {cpu})
                block[f"conv_1thread_cpu{cpu}_ms"] = timed_ms(lambda: conv(xc), 0.1)
            os.sched_setaffinity(0, cpus)
            blocks.append(block)
    return blocks


def compare_worker(model: str, threads: int, seconds: float) -> list[float]:
    import torch

    forward = network(model)
    torch.set_num_threads(threads)
    with torch.inference_mode():
        timed_ms(forward, 0.5)
        blocks_ms = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            blocks_ms.append(timed_ms(forward, 1.0))
    return blocks_ms


def slow_count(blocks_ms: list[float], fastest_ms: float) -> int:
    return sum(ms >= SLOW * fastest_ms for ms in blocks_ms)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--model",
        default="nb201:|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--compare-env", metavar="VAR=VALUE")
    parser.add_argument("--cycles", type=int, default=5, help="pairs of 20 s processes with --compare-env")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(compare_worker(args.model, args.threads, 20.0)))
        return
    result = {"command": " ".join(["python", *sys.argv]), "model": args.model, "threads": args.threads}
    if args.compare_env:
        name, _, value = args.compare_env.partition("=")
        sides = {"without": [], "with": []}
        for _ in range(args.cycles):
            for side in sides:
                env = {k: v for k, v in os.environ.items() if k != name} | ({name: value} if side == "with" else {})
                command = [sys.executable, __file__, "--worker", "--model", args.model, "--threads", str(args.threads)]
                sides[side].append(
                    json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)
                )
        fastest_ms = min(ms for runs in sides.values() for run in runs for ms in run)
        result["compare_env"] = args.compare_env
        for side, runs in sides.items():
            result[side] = {
                "slow_blocks_per_process": [slow_count(run, fastest_ms) for run in runs],
                "blocks_per_process": [len(run) for run in runs],
                "median_ms_per_process": [round(statistics.median(run), 3) for run in runs],
            }
    else:
        blocks = probe_blocks(args.model, args.threads, args.minutes)
        network_ms = sorted(block["network_ms"] for block in blocks)
        fastest_ms = statistics.median(network_ms[: max(1, len(network_ms) // 4)])
        groups = {
            "slow": [b for b in blocks if b["network_ms"] >= SLOW * fastest_ms],
            "normal": [b for b in blocks if b["network_ms"] < SLOW * fastest_ms],
        }
        for label, group in groups.items():
            result[label] = {"blocks": len(group)} | {
                key: round(statistics.median(b[key] for b in group), 4) for key in (group or [{}])[0]
            }
    emit(result, args.out)


if __name__ == "__main__":
    main()
