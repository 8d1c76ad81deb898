"""The public energy API and `hwprof run` on a real GPU, against the NVML counter read around the same code.

    python bench/gpu_energy_api.py [--device cuda:0] [--json out.json]

Three checks: `hwprof.energy_window` around ~3 s of queued float16 matrix products, nested
`EnergyMonitor` windows (an outer window over three inner steps of 2.5 s: the inner energies should sum to
about the outer one), and `hwprof run -- python -c ...` around the same load in a child process. Each is
set beside NVML's own energy counter read before and after (nvmlDeviceGetTotalEnergyConsumption), so the
ratio says whether hwprof's windows account for the energy the GPU reports. Without a GPU it prints
`unavailable: <why>` and exits 2.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOAD = "import torch; a = torch.randn(8192, 8192, device='{device}', dtype=torch.float16)\n" + (
    "for _ in range({n}): a @ a\ntorch.cuda.synchronize('{device}')"
)


def counter_j(pynvml, handle) -> float:
    return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("unavailable: no CUDA GPU is visible to torch, so there is no GPU energy to check")
        return 2
    import pynvml

    import hwprof
    from hwprof.drivers.nvml import resolve_handle

    pynvml.nvmlInit()
    _, handle, _ = resolve_handle(pynvml, args.device)
    a = torch.randn(8192, 8192, device=args.device, dtype=torch.float16)
    for _ in range(5):
        a @ a
    torch.cuda.synchronize(args.device)
    start = time.perf_counter()
    for _ in range(20):
        a @ a
    torch.cuda.synchronize(args.device)
    per_s = (time.perf_counter() - start) / 20
    report = {"device": torch.cuda.get_device_name(torch.device(args.device)), "matmul_ms": per_s * 1e3}

    def load(seconds: float) -> None:
        for _ in range(max(1, int(seconds / per_s))):
            a @ a
        torch.cuda.synchronize(args.device)

    before = counter_j(pynvml, handle)
    with hwprof.energy_window(device=args.device) as window:
        load(3.0)
    counted = counter_j(pynvml, handle) - before
    report["energy_window"] = {**vars(window), "nvml_counter_j": counted}
    print(f"[window] {window.energy_j} J over {window.duration_s:.2f} s ({window.power_w} W), flags {window.flags}, "
          f"source {window.source}; NVML counter around it {counted:.1f} J; reason {window.unavailable_reason}")  # fmt: skip

    with hwprof.EnergyMonitor(device=args.device) as monitor:
        before = counter_j(pynvml, handle)
        monitor.begin_window("outer")
        steps = []
        for i in range(3):
            monitor.begin_window(f"step{i}")
            load(2.5)  # past the sensor's shortest window (2 s on an H200 at 100 ms updates)
            steps.append(monitor.end_window(f"step{i}"))
        outer = monitor.end_window("outer")
        counted = counter_j(pynvml, handle) - before
    inner = [s.energy_j for s in steps]
    report["monitor"] = {"outer": vars(outer), "steps": [vars(s) for s in steps], "nvml_counter_j": counted}
    print(f"[monitor] outer {outer.energy_j} J over {outer.duration_s:.2f} s, steps {inner} J "
          f"(sum {sum(e for e in inner if e is not None):.1f}), flags {[s.flags for s in steps]}; counter {counted:.1f} J")  # fmt: skip

    folder = Path(tempfile.mkdtemp(prefix="hwprof-run-"))
    code = LOAD.format(device=args.device, n=max(1, int(4.0 / per_s)))
    before = counter_j(pynvml, handle)
    done = subprocess.run([sys.executable, "-m", "hwprof", "run", "--device", args.device, "--out",
                           str(folder / "run.parquet"), "--", sys.executable, "-c", code],
                          capture_output=True, text=True)  # fmt: skip
    counted = counter_j(pynvml, handle) - before
    report["run"] = {"exit_status": done.returncode, "stderr": done.stderr[-1500:], "nvml_counter_j": counted}
    print(f"[run] exit {done.returncode}; counter around the whole call {counted:.1f} J\n{done.stderr[-1500:]}")
    if done.returncode == 0:
        import pandas as pd

        row = pd.read_parquet(folder / "run.parquet").iloc[0]
        columns = ["latency_ms", "energy_mj", "dynamic_energy_mj", "idle_power_w", "power_w", "power_flags"]
        report["run"]["row"] = {c: row.get(c) for c in columns}
        print("[run] row:", {c: row.get(c) for c in columns})
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
