"""hwprof on a real NVIDIA GPU, end to end, in about three minutes; the output goes to BENCHMARKS.md.

1. mapping: the GPU CUDA runs on (its UUID) against the one hwprof's sensor reads, MIG mode, the variables
   that change the mapping (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, NVIDIA_VISIBLE_DEVICES);
2. support: every NVML query hwprof uses, its value or error, and its cost per call;
3. step response: raw NVML read every ~2 ms through idle -> fp16 matmuls (two ~10 ms batches in flight, read
   between them) -> idle: per source
   (counter, field 186, power_usage) idle and load power, update period, 90% rise and 10% decay times;
   SM clocks idle, under load and after; clock-event reasons under load;
4. windows: hwprof's measure_energy three times against a steady reference (a window opened and closed
   under load, its time per call taken inside it, and a cooled idle window);
5. timing: a small kernel and an eager ResNet-50 (float16, batch 1) timed as hwprof's runner does (host
   clock, synchronised), with and without the NVML poller, in alternated rounds; the kernel against CUDA
   events too;
6. the CLI: `hwprof measure resnet18 --power nvml` at batch 1 and 32, its power and GPU columns and provenance.

Run it on an idle GPU from an installed checkout:

    python bench/nvml_validation.py [--device cuda:0] [--json results.json]

Without a usable GPU it prints one line, `unavailable: <why>`, and exits 2: no figure is invented.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

STEP_IDLE_S, STEP_LOAD_S, STEP_AFTER_S = 3.0, 4.0, 4.0
READ_EVERY_S = 0.002
STEP_N, WINDOW_N, TIMING_N = 8192, 4096, 256  # matrix sides: a long fp16 load, a steady one, a launch-bound one
ROUNDS = 5  # quiet and polled timing rounds, alternated


def fmt(value, digits: int = 1, unit: str = "") -> str:
    """A figure, or '-' where there is none (a query the GPU does not answer): never a crash."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value}{unit}"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return str(value)


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def relative_error(value, reference) -> float | None:
    if value is None or not reference:
        return None
    return (value - reference) / reference


def update_period_s(points: list[tuple[float, float]]) -> float | None:
    """Median time between changes of a (t, value) series."""
    changes = [t for (_, a), (t, b) in zip(points, points[1:]) if a != b]
    gaps = [b - a for a, b in zip(changes, changes[1:])]
    return median(gaps)


def counter_power(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(t, W) from (t, mJ) counter reads, between the reads at which it changed."""
    changed = [points[0]] + [q for p, q in zip(points, points[1:]) if q[1] != p[1]] if points else []
    return [(t1, (e1 - e0) / (t1 - t0) / 1000) for (t0, e0), (t1, e1) in zip(changed, changed[1:]) if t1 > t0]


def step_figures(points: list[tuple[float, float]], load_s: float, end_s: float) -> dict:
    """Idle and load power of a step, its 90% rise time and its decay to 10% after the load."""
    idle = median(w for t, w in points if t < load_s)
    load = median(w for t, w in points if (load_s + end_s) / 2 < t < end_s)
    figures = {"idle_w": idle, "load_w": load, "rise_90_s": None, "decay_10_s": None}
    if idle is None or load is None:
        return figures
    step = load - idle
    figures["rise_90_s"] = next((t - load_s for t, w in points if t > load_s and w >= idle + 0.9 * step), None)
    figures["decay_10_s"] = next((t - end_s for t, w in points if t > end_s and w <= idle + 0.1 * step), None)
    return figures


class Check:
    """The GPU under test: torch, NVML and hwprof's sensor on one device."""

    def __init__(self, device: str) -> None:
        import pynvml
        import torch

        from hwprof.drivers.nvml import resolve_handle

        self.torch, self.pynvml, self.device = torch, pynvml, device
        self.tensor_device = torch.device(device)
        self.index, self.handle, self.mapping = resolve_handle(pynvml, device)
        self.report: dict = {}

    def call(self, function, *args):
        try:
            return function(*args)
        except self.pynvml.NVMLError as error:
            return f"error: {error}"

    def sync(self) -> None:
        self.torch.cuda.synchronize(self.tensor_device)

    # 1 ---------------------------------------------------------------------------------------------
    def mapping_section(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        pynvml, torch = self.pynvml, self.torch
        props = torch.cuda.get_device_properties(torch.device(self.device))
        cuda_uuid = str(getattr(props, "uuid", ""))
        nvml_uuid = pynvml.nvmlDeviceGetUUID(self.handle)
        nvml_uuid = nvml_uuid.decode() if isinstance(nvml_uuid, bytes) else nvml_uuid
        same = bool(cuda_uuid) and nvml_uuid.removeprefix("GPU-").removeprefix("MIG-") == cuda_uuid
        try:
            bindings = version("nvidia-ml-py")
        except PackageNotFoundError:
            bindings = "not found"
        driver = self.call(pynvml.nvmlSystemGetDriverVersion)
        self.report["mapping"] = {
            "gpu": props.name,
            "cuda_uuid": cuda_uuid,
            "nvml_index": self.index,
            "nvml_uuid": nvml_uuid,
            "how": self.mapping,
            "same_gpu": same,
            "mig_mode": self.call(pynvml.nvmlDeviceGetMigMode, self.handle),
            "driver": driver.decode() if isinstance(driver, bytes) else driver,
            "nvidia_ml_py": bindings,
            "torch": f"{torch.__version__} (CUDA {torch.version.cuda})",
            **{
                name: os.environ.get(name)
                for name in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES")
            },
        }
        m = self.report["mapping"]
        print(
            f"[map] {self.device} = {m['gpu']} (CUDA UUID {cuda_uuid}); hwprof reads nvml:{self.index} {nvml_uuid} "
            f"({m['how']}); MIG {m['mig_mode']} -> {'OK' if same else 'MISMATCH'}"
        )
        print(
            f"[env] driver {m['driver']}, nvidia-ml-py {m['nvidia_ml_py']}, torch {m['torch']}, "
            f"CUDA_VISIBLE_DEVICES={m['CUDA_VISIBLE_DEVICES']}, CUDA_DEVICE_ORDER={m['CUDA_DEVICE_ORDER']}, "
            f"NVIDIA_VISIBLE_DEVICES={m['NVIDIA_VISIBLE_DEVICES']}"
        )

    # 2 ---------------------------------------------------------------------------------------------
    def instant_field(self, scope: int | None):
        pynvml = self.pynvml
        field = pynvml.NVML_FI_DEV_POWER_INSTANT
        values = self.call(pynvml.nvmlDeviceGetFieldValues, self.handle, [field if scope is None else (field, scope)])
        if isinstance(values, str):
            return values
        return values[0].value.uiVal if values[0].nvmlReturn == pynvml.NVML_SUCCESS else f"error {values[0].nvmlReturn}"

    def support_section(self) -> None:
        pynvml, h = self.pynvml, self.handle
        queries = {
            "total energy (mJ)": (pynvml.nvmlDeviceGetTotalEnergyConsumption, h),
            "power_usage (mW, 1 s average from Ampere on)": (pynvml.nvmlDeviceGetPowerUsage, h),
            "field 186 instant power, GPU scope (mW)": (self.instant_field, None),
            "field 186 instant power, module scope (mW)": (self.instant_field, 1),
            "clock-event reasons (R535+)": (getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None), h),
            "throttle reasons (before R535)": (pynvml.nvmlDeviceGetCurrentClocksThrottleReasons, h),
            "SM clock (MHz)": (pynvml.nvmlDeviceGetClockInfo, h, pynvml.NVML_CLOCK_SM),
            "applications SM clock (MHz)": (pynvml.nvmlDeviceGetApplicationsClock, h, pynvml.NVML_CLOCK_SM),
            "enforced power limit (mW)": (pynvml.nvmlDeviceGetEnforcedPowerLimit, h),
            "P-state": (pynvml.nvmlDeviceGetPerformanceState, h),
            "persistence mode": (pynvml.nvmlDeviceGetPersistenceMode, h),
            "compute processes": (lambda x: len(pynvml.nvmlDeviceGetComputeRunningProcesses(x)), h),
        }
        rows = {}
        for name, (function, *args) in queries.items():
            if function is None:
                rows[name] = {"value": "absent from these bindings", "us_per_call": None}
                continue
            started = time.perf_counter()
            for _ in range(20):
                value = self.call(function, *args)
            rows[name] = {"value": value, "us_per_call": (time.perf_counter() - started) / 20 * 1e6}
            print(f"[api] {name:<46} {fmt(value):<28} {fmt(rows[name]['us_per_call'], 0)} us/call")
        self.report["support"] = rows

    # 3 ---------------------------------------------------------------------------------------------
    def _read_raw(self, seconds: float | None, until=None) -> list[tuple]:
        """NVML read raw every READ_EVERY_S, for `seconds` or until the event `until` has passed (at least once)."""
        pynvml, h, rows = self.pynvml, self.handle, []
        reasons = getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
        end = time.perf_counter() + (seconds or 0)
        while not rows or ((time.perf_counter() < end) if until is None else not until.query()):
            rows.append((
                time.perf_counter(),
                self.call(pynvml.nvmlDeviceGetTotalEnergyConsumption, h),
                self.instant_field(None),
                self.call(pynvml.nvmlDeviceGetPowerUsage, h),
                self.call(pynvml.nvmlDeviceGetClockInfo, h, pynvml.NVML_CLOCK_SM),
                self.call(reasons or pynvml.nvmlDeviceGetCurrentClocksThrottleReasons, h),
            ))  # fmt: skip
            time.sleep(READ_EVERY_S)
        return rows

    def step_section(self) -> None:
        from hwprof.drivers.nvml import reason_names

        torch = self.torch
        n = STEP_N
        a = torch.randn(n, n, device=self.tensor_device, dtype=torch.float16)
        a @ a
        self.sync()
        started = time.perf_counter()
        for _ in range(5):
            a @ a
        self.sync()
        per_s = (time.perf_counter() - started) / 5
        rows = self._read_raw(STEP_IDLE_S)
        # The load goes in batches of ~10 ms with at most two in flight, read between them: a long queue
        # would block the launching thread once full and stop the reads for the seconds it drains.
        batch = max(1, int(0.01 / per_s))
        load_s = time.perf_counter()
        in_flight = []
        while time.perf_counter() - load_s < STEP_LOAD_S:
            for _ in range(batch):
                a @ a
            done = torch.cuda.Event()
            done.record()
            in_flight.append(done)
            while len(in_flight) > 1 and not in_flight[0].query():
                rows += self._read_raw(0.0005)
            if len(in_flight) > 1:
                in_flight.pop(0)
        rows += self._read_raw(None, until=in_flight[-1])
        end_s = time.perf_counter()
        rows += self._read_raw(STEP_AFTER_S)

        def series(column: int, scale: float):
            return [(r[0], r[column] / scale) for r in rows if isinstance(r[column], (int, float))]

        counter = series(1, 1.0)
        sources = {"counter": counter_power(counter), "field186": series(2, 1000), "power_usage": series(3, 1000)}
        figures = {}
        for name, points in sources.items():
            raw = counter if name == "counter" else points
            figures[name] = {**step_figures(points, load_s, end_s), "update_period_s": update_period_s(raw)}
            f = figures[name]
            print(
                f"[step] {name:<11} idle {fmt(f['idle_w'])} W, load {fmt(f['load_w'])} W, update "
                f"{fmt(f['update_period_s'] and f['update_period_s'] * 1e3, 0)} ms, 90% rise "
                f"{fmt(f['rise_90_s'] and f['rise_90_s'] * 1e3, 0)} ms, back to 10% "
                f"{fmt(f['decay_10_s'] and f['decay_10_s'] * 1e3, 0)} ms after the last kernel"
            )
        sm = series(4, 1)
        mask = 0
        for r in rows:
            if load_s < r[0] < end_s and isinstance(r[5], int):
                mask |= r[5]
        clocks = {
            "idle_mhz": median(v for t, v in sm if t < load_s),
            "load_mhz": median(v for t, v in sm if load_s < t < end_s),
            "2s_after_mhz": median(v for t, v in sm if t > end_s + 2),
            "reasons_under_load": reason_names(self.pynvml, mask),
        }
        print(
            f"[step] {n}^2 fp16 matmuls of {per_s * 1e3:.1f} ms for {end_s - load_s:.1f} s; SM clock idle "
            f"{fmt(clocks['idle_mhz'], 0)}, load {fmt(clocks['load_mhz'], 0)}, 2 s after "
            f"{fmt(clocks['2s_after_mhz'], 0)} MHz; reasons under load {clocks['reasons_under_load']}"
        )
        self.report["step"] = {"sources": figures, "clocks": clocks, "matmul_ms": per_s * 1e3}

    # 4 ---------------------------------------------------------------------------------------------
    def windows_section(self) -> None:
        from hwprof.drivers.nvml import NvmlSensor
        from hwprof.measuring.energy import measure_energy, required_window_s, settle

        torch = self.torch
        x = torch.randn(WINDOW_N, WINDOW_N, device=self.tensor_device, dtype=torch.float16)

        def run(k: int) -> None:
            for _ in range(k):
                x @ x
            self.sync()

        run(20)
        started = time.perf_counter()
        run(200)
        latency_s = (time.perf_counter() - started) / 200
        with NvmlSensor(self.device) as sensor:
            meta = sensor.metadata()
            run(int(1 / latency_s))  # a steady reference: opened and closed under load
            calls = int(5 / latency_s)
            sensor.start_window()
            run(calls)
            steady = sensor.stop_window()
            # the reference's time per call as it ran under load (the power cap lowers the clock after a
            # while, so the latency timed before the load is shorter than the one inside it)
            before_load_s, latency_s = latency_s, steady.duration_s / calls
            run(int(1 / latency_s))
            settle(sensor)
            sensor.clock.sleep(5)
            sensor.start_window()
            sensor.clock.sleep(5)
            idle = sensor.stop_window()
            load_w, idle_w = steady.steady_power_w, idle.steady_power_w
            reference_mj = (load_w - idle_w) * latency_s * 1e3 if load_w and idle_w else None
            print(
                f"[hwprof] {meta['source']}, field {meta['power_field']}, update {fmt(meta['update_period_s'] * 1e3, 0)}"
                f" ms (probed {meta['update_period_probed']}), window {required_window_s(sensor):.2f} s; reference: "
                f"load {fmt(load_w)} W, idle {fmt(idle_w)} W, dynamic {fmt(reference_mj, 3)} mJ per {WINDOW_N}^2 matmul "
                f"({latency_s * 1e3:.4f} ms under load, {before_load_s * 1e3:.4f} ms before it)"
            )
            results = []
            for i in range(3):
                r = measure_energy(run, latency_s, sensor)
                r["errors"] = {
                    "load": relative_error(r["power_w"], load_w),
                    "idle": relative_error(r["idle_power_w"], idle_w),
                    "dynamic": relative_error(r["dynamic_energy_mj"], reference_mj),
                }
                results.append(r)
                e = r["errors"]
                print(
                    f"[aba {i}] load {fmt(r['power_w'])} W ({fmt(e['load'] and e['load'] * 100, 2)}%), idle "
                    f"{fmt(r['idle_power_w'])} W ({fmt(e['idle'] and e['idle'] * 100, 2)}%), dynamic "
                    f"{fmt(r['dynamic_energy_mj'], 3)} mJ ({fmt(e['dynamic'] and e['dynamic'] * 100, 2)}%), SM "
                    f"{fmt(r['gpu_sm_clock_mhz'], 0)} MHz, {fmt(r['gpu_temperature_c'], 0)} C, reasons "
                    f"{r['gpu_clock_event_reasons'] or '-'}, spread {fmt(r['power_spread'], 4)}, "
                    f"flags {r['power_flags'] or '-'}"
                )
        self.report["windows"] = {
            "sensor": meta,
            "reference": {
                "load_w": load_w,
                "idle_w": idle_w,
                "dynamic_mj": reference_mj,
                "latency_s": latency_s,
                "latency_before_load_s": before_load_s,
            },  # fmt: skip
            "measure_energy": results,
        }

    # 5 ---------------------------------------------------------------------------------------------
    def timing_section(self) -> None:
        from hwprof.drivers.nvml import NvmlSensor
        from hwprof.measuring.runner import Item
        from hwprof.measuring.session import CUDA_MIN_SAMPLE_S

        torch = self.torch
        y = torch.randn(TIMING_N, TIMING_N, device=self.tensor_device)
        items = [Item("mm", lambda: y @ y, self.sync)]
        try:  # a launch-bound network as well: eager ResNet-50, float16, batch 1
            import torchvision

            net = torchvision.models.resnet50().to(self.tensor_device, torch.float16).eval()
            image = torch.randn(1, 3, 224, 224, device=self.tensor_device, dtype=torch.float16)
            items.append(Item("resnet50", torch.no_grad()(lambda: net(image)), self.sync))
        except ImportError:
            pass
        figures = {}
        with NvmlSensor(self.device) as sensor:
            for item in items:
                item.run(20)
                reps = 1
                while item.run(reps) * reps < CUDA_MIN_SAMPLE_S:
                    reps *= 2

                def host_us(count: int) -> float:
                    return median(item.run(reps) * 1e6 for _ in range(count))

                host_us(20)
                quiet, polled = [], []
                for _ in range(ROUNDS):  # alternated, so drift of the host or the GPU falls on both alike
                    quiet.append(host_us(20))
                    sensor.start_window()  # the poller runs only inside windows
                    polled.append(host_us(20))
                    sensor.stop_window()
                figures[item.key] = {"reps": reps, "host_us": median(quiet), "host_polled_us": median(polled),
                                      "rounds_quiet_us": quiet, "rounds_polled_us": polled}  # fmt: skip
        start, stop, events = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True), []
        reps = figures["mm"]["reps"]
        for _ in range(60):
            start.record()
            for _ in range(reps):
                y @ y
            stop.record()
            stop.synchronize()
            events.append(start.elapsed_time(stop) * 1e3 / reps)
        figures["mm"]["cuda_event_us"] = median(events)
        self.report["timing"] = figures
        for name, f in figures.items():
            change = relative_error(f["host_polled_us"], f["host_us"])
            print(
                f"[lat] {name} x{f['reps']} per sample, {ROUNDS} alternated rounds: host+sync {fmt(f['host_us'], 2)} us, "
                f"with the NVML poller {fmt(f['host_polled_us'], 2)} us ({fmt(change and change * 100, 1)}%), rounds "
                f"{[round(v, 1) for v in f['rounds_quiet_us']]} / {[round(v, 1) for v in f['rounds_polled_us']]}"
                + (f", CUDA events {fmt(f['cuda_event_us'], 2)} us" if "cuda_event_us" in f else "")
            )

    # 6 ---------------------------------------------------------------------------------------------
    def cli_section(self) -> None:
        import pandas as pd

        out = os.path.join(tempfile.mkdtemp(prefix="hwprof-nvml-"), "resnet18.parquet")
        command = [sys.executable, "-m", "hwprof", "measure", "resnet18", "--device", self.device, "--power", "nvml",
                   "--no-layers", "--batch-size", "1,32", "--max-time", "2", "--out", out, "--quiet"]  # fmt: skip
        process = subprocess.run(command, capture_output=True, text=True)
        if process.returncode:
            self.report["cli"] = {"exit_status": process.returncode, "stderr": process.stderr[-800:]}
            print(f"[cli] FAILED ({process.returncode}): {process.stderr[-800:]}")
            return
        columns = ["batch_size", "latency_ms", "power_w", "idle_power_w", "energy_mj", "dynamic_energy_mj",
                   "gpu_sm_clock_mhz", "gpu_temperature_c", "gpu_clock_event_reasons", "power_flags"]  # fmt: skip
        frame = pd.read_parquet(out)
        with open(out + ".json") as sidecar:
            power = json.load(sidecar)["runs"][-1]["power"]
        self.report["cli"] = {"exit_status": 0, "rows": frame[columns].to_dict("records"), "power": power}
        print(frame[columns].to_string(index=False))
        print("[cli] provenance power:", json.dumps(power)[:600])


def unavailable_reason(device: str) -> str | None:
    """Why this machine cannot run the check, or None."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        build = "a CPU-only torch build" if torch.version.cuda is None else f"torch built for CUDA {torch.version.cuda}"
        return f"no CUDA GPU is visible to torch ({build}), so there is no GPU for NVML to be checked against"
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.drivers.nvml import NvmlSensor

    try:
        NvmlSensor(device).close()
    except SensorUnavailable as error:
        return f"hwprof cannot read power on {device}: {error}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--json", dest="json_path", default=None, help="Also write every figure here.")
    args = parser.parse_args()
    why = unavailable_reason(args.device)
    if why:
        print(f"unavailable: {why}")
        return 2
    check = Check(args.device)
    print(f"# NVML validation, {datetime.date.today().isoformat()}, host {platform.node()}")
    print(f"command: python bench/nvml_validation.py --device {args.device}")
    for section in (check.mapping_section, check.support_section, check.step_section, check.windows_section,
                    check.timing_section, check.cli_section):  # fmt: skip
        try:
            section()
        except Exception as error:  # one section failing must not hide the others' figures
            check.report[section.__name__] = {"error": repr(error)}
            print(f"[{section.__name__}] FAILED: {error!r}")
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(check.report, out, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
