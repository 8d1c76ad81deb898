"""Fake sysfs trees: RAPL counters advanced at known wattages, INA3221 monitors, host files.

The RAPL writer integrates each zone's power over real elapsed time and replaces
the counter files atomically, wrapping them at `max_energy_range_uj` like the kernel.
"""

from __future__ import annotations

import multiprocessing
import os
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


def _writer_main(
    powercap: str, zones: list[tuple[str, str | None, int]], powers, start_uj: list[float], stop, update_s: float
) -> None:
    """The writer process: integrate each zone's power and rewrite its counter every `update_s`."""
    energy_uj = dict(zip((z[0] for z in zones), start_uj))
    last_t = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        for index, (zone_id, mirror_of, _) in enumerate(zones):
            if mirror_of is None:
                energy_uj[zone_id] += powers[index] * (now - last_t) * 1e6
        last_t = now
        for zone_id, mirror_of, max_range_uj in zones:
            value = int(energy_uj[mirror_of or zone_id]) % max_range_uj
            write_atomically(Path(powercap) / zone_id / "energy_uj", f"{value}\n")
        time.sleep(update_s)


class FakeRaplTree:
    """A powercap tree under `root`; `start()` runs the writer, `set_power()` changes a load.

    The writer is a separate process, like the hardware counter it stands for:
    a busy interpreter in the test cannot delay its updates. A busy machine can
    still stall the process itself for 100 ms, a tenth of a window, so a test of
    a figure read over real time is marked `flaky(reruns=2)`: run again, up to
    twice, before it fails; a reading wrong every time fails all three.
    """

    def __init__(self, root: Path, zones: list[FakeZone], update_s: float = 0.001):
        self.root = Path(root)
        self.zones = list(zones)
        self.update_s = update_s
        self.powercap = self.root / "sys" / "class" / "powercap"
        self._context = multiprocessing.get_context("spawn")
        self._powers = self._context.Array("d", [z.power_w for z in zones], lock=False)
        self._stop = self._context.Event()
        self._process = None
        (self.powercap / "intel-rapl").mkdir(parents=True, exist_ok=True)
        for zone in zones:
            directory = self.powercap / zone.zone_id
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "name").write_text(zone.name + "\n")
            (directory / "max_energy_range_uj").write_text(f"{zone.max_range_uj}\n")
            if zone.max_power_uw is not None:
                (directory / "constraint_0_max_power_uw").write_text(f"{zone.max_power_uw}\n")
            source = next(z for z in zones if z.zone_id == (zone.mirror_of or zone.zone_id))
            write_atomically(directory / "energy_uj", f"{source.start_uj % zone.max_range_uj}\n")
        cpu0 = self.root / "sys" / "devices" / "system" / "cpu" / "cpu0"
        write_file(cpu0 / "cpufreq" / "scaling_governor", "performance\n")
        write_file(cpu0 / "cpufreq" / "scaling_min_freq", "2000000\n")
        write_file(cpu0 / "cpufreq" / "scaling_max_freq", "2000000\n")
        write_file(cpu0 / "thermal_throttle" / "package_throttle_count", "0\n")

    def set_power(self, zone_id: str, power_w: float) -> None:
        self._powers[[z.zone_id for z in self.zones].index(zone_id)] = power_w

    def start(self) -> FakeRaplTree:
        spec = [(z.zone_id, z.mirror_of, z.max_range_uj) for z in self.zones]
        self._process = self._context.Process(
            target=_writer_main,
            daemon=True,
            args=(
                str(self.powercap),
                spec,
                self._powers,
                [float(z.start_uj) for z in self.zones],
                self._stop,
                self.update_s,
            ),
        )
        self._process.start()
        first = self.powercap / self.zones[0].zone_id / "energy_uj"
        initial, deadline = first.read_text(), time.monotonic() + 10
        while first.read_text() == initial and time.monotonic() < deadline:  # until the writer runs
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
            self._process = None

    def __enter__(self) -> FakeRaplTree:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def write_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


FAKE_TEGRASTATS = Path(__file__).parent / "fake_tegrastats.py"


def stopping_tegrastats(directory: Path, lasts_s: float) -> Path:
    """A fake tegrastats program killed after `lasts_s` (status 124), as one run under `timeout` is."""
    import shutil
    import sys

    wrapper = write_file(
        directory / "tegrastats",
        f'#!/bin/sh\nexec {shutil.which("timeout")} {lasts_s} {sys.executable} {FAKE_TEGRASTATS} "$@"\n',
    )
    wrapper.chmod(0o755)
    return wrapper


def write_ina3221_hwmon(root: Path, rails: dict[str, tuple[float, float]], index: int = 1) -> Path:
    """An INA3221 hwmon chip (JetPack 5+): rail -> (millivolts, milliamps); rails named NC are unconnected.

    A "#suffix" on a name keeps repeated labels (NC, NC#2) apart and is not written.
    """
    chip = Path(root) / "sys" / "class" / "hwmon" / f"hwmon{index}"
    write_file(chip / "name", "ina3221\n")
    for channel, (name, (millivolts, milliamps)) in enumerate(rails.items(), start=1):
        write_file(chip / f"in{channel}_label", name.split("#")[0] + "\n")
        write_file(chip / f"in{channel}_input", f"{int(millivolts)}\n")
        write_file(chip / f"curr{channel}_input", f"{int(milliamps)}\n")
    return chip


def write_ina3221_iio(root: Path, rails: dict[str, float], index: int = 0) -> Path:
    """An INA3221 iio device (JetPack 4): rail -> milliwatts."""
    device = Path(root) / "sys" / "bus" / "iio" / "devices" / f"iio:device{index}"
    write_file(device / "name", "ina3221x\n")
    for channel, (name, milliwatts) in enumerate(rails.items()):
        write_file(device / f"rail_name_{channel}", name + "\n")
        write_file(device / f"in_power{channel}_input", f"{int(milliwatts)}\n")
    return device


def on_board(monkeypatch, tmp_path, name):
    """This process on board `name`: a fake machine root of its own (HWPROF_SYSFS_ROOT) whose CPU is named after
    it, so runs on two boards can be told apart."""
    root = tmp_path / "sysfs" / name
    write_file(root / "proc" / "cpuinfo", f"processor\t: 0\nmodel name\t: Fake CPU of {name}\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(root))
