"""Fake sysfs trees whose energy counters a background thread advances at known wattages.

The writer integrates each zone's power over real elapsed time and replaces the
counter files atomically, wrapping them at `max_energy_range_uj` like the kernel.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FakeZone:
    zone_id: str  # "intel-rapl:0", "intel-rapl:0:0", ...
    name: str  # "package-0", "core", "package-0-die-1", ...
    power_w: float
    max_range_uj: int = 262_143_328_850
    max_power_uw: int | None = 150_000_000
    mirror_of: str | None = None  # zone_id whose counter this one repeats
    start_uj: int = 0


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class FakeRaplTree:
    """A powercap tree under `root`; `start()` runs the writer, `set_power()` changes a load."""

    def __init__(self, root: Path, zones: list[FakeZone], update_s: float = 0.001):
        self.root = Path(root)
        self.zones = {z.zone_id: z for z in zones}
        self.update_s = update_s
        self.powercap = self.root / "sys" / "class" / "powercap"
        self._energy_uj = {z.zone_id: float(z.start_uj) for z in zones}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_t = time.monotonic()
        (self.powercap / "intel-rapl").mkdir(parents=True, exist_ok=True)
        for zone in zones:
            directory = self.powercap / zone.zone_id
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "name").write_text(zone.name + "\n")
            (directory / "max_energy_range_uj").write_text(f"{zone.max_range_uj}\n")
            if zone.max_power_uw is not None:
                (directory / "constraint_0_max_power_uw").write_text(f"{zone.max_power_uw}\n")
        self._write_counters()
        cpufreq = self.root / "sys" / "devices" / "system" / "cpu" / "cpu0" / "cpufreq"
        cpufreq.mkdir(parents=True, exist_ok=True)
        (cpufreq / "scaling_governor").write_text("performance\n")
        (cpufreq / "scaling_min_freq").write_text("2000000\n")
        (cpufreq / "scaling_max_freq").write_text("2000000\n")
        throttle = cpufreq.parent / "thermal_throttle"
        throttle.mkdir(exist_ok=True)
        (throttle / "package_throttle_count").write_text("0\n")

    def set_power(self, zone_id: str, power_w: float) -> None:
        with self._lock:
            self._advance()
            self.zones[zone_id].power_w = power_w

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed = now - self._last_t
        self._last_t = now
        for zone in self.zones.values():
            if zone.mirror_of is None:
                self._energy_uj[zone.zone_id] += zone.power_w * elapsed * 1e6

    def _write_counters(self) -> None:
        for zone in self.zones.values():
            source = zone.mirror_of or zone.zone_id
            value = int(self._energy_uj[source]) % zone.max_range_uj
            write_atomically(self.powercap / zone.zone_id / "energy_uj", f"{value}\n")

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._advance()
                self._write_counters()
            time.sleep(self.update_s)

    def start(self) -> "FakeRaplTree":
        self._last_t = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def __enter__(self) -> "FakeRaplTree":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
