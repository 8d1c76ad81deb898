"""Jetson boards: power rails from tegrastats, or faster from the INA3221 sysfs.

tegrastats prints each rail as `cur/avg` (JetPack 4, no unit) or
`cur mW/avg mW` (JetPack 5 and later, after a timestamp); only `cur`, the
instantaneous value, is used, never the running average. A per-board table
says which rail is the module total and which are sub-rails, so no rail is
counted twice: the Nano's POM_5V_IN and VDD_IN elsewhere are totals; AGX
Orin has none, so its rails are summed without VDDQ_VDD2_1V8AO (already inside
VIN_SYS_5V0); AGX Xavier has none either, so all its rails are summed.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from hwprof.drivers.base import PowerSample, PowerSensor, SensorUnavailable, probe_update_period
from hwprof.drivers.host import is_jetson, read_text, sysfs_path
from hwprof.errors import option, worded

TEGRASTATS_INTERVAL_MS = 50
TEGRASTATS_MIN_WINDOW_S = 1.0
INA_POLL_INTERVAL_S = 0.01
INA_NOMINAL_UPDATE_PERIOD_S = 0.01
INA_MIN_WINDOW_S = 0.5
RAIL_CHANNELS = ("1", "2", "3")  # an INA3221's three monitors; the hwmon driver's later channels are not rails
ABSENT_TEMPERATURE_C = -256.0
START_TIMEOUT_S = 5.0
END_TIMEOUT_S = 2.0  # for tegrastats to end on SIGTERM, then again on SIGKILL
NOT_A_JETSON = "not a Jetson: no /etc/nv_tegra_release and no Tegra device tree"  # what is_jetson() found missing

RAIL = re.compile(
    r"(?<![\w@])(?P<name>[A-Za-z][A-Za-z0-9_]*) (?P<cur>-?\d+)(?:mW)?/-?\d+(?:mW)?(?:/-?\d+(?:mW)?)?(?=\s|$)"
)
TEMPERATURE = re.compile(r"(?<![\w@])(?P<name>[A-Za-z][A-Za-z0-9_]*)@(?P<value>-?\d+(?:\.\d+)?)C(?:/-?\d+(?:\.\d+)?C)?")
TIMESTAMP = re.compile(r"^(?P<ts>\d\d-\d\d-\d{4} \d\d:\d\d:\d\d) ")
GR3D = re.compile(r"\bGR3D_FREQ (?:(?P<off>off)|(?:(?P<pct>\d+)%)?(?:@\[?(?P<freq>[\d,]+)\]?)?)")
EMC = re.compile(r"\bEMC_FREQ (?:(?P<pct>\d+)%)?(?:@(?P<freq>\d+))?")
CPU = re.compile(r"\bCPU \[(?P<cores>[^\]]*)\](?:@(?P<freq>\d+))?")
ENGINE_OFF = re.compile(r"\b(?P<name>[A-Z][A-Z0-9_]*) off\b")


@dataclass
class TegrastatsReading:
    """One tegrastats line. Rails in mW, instantaneous; absent temperatures are None."""

    timestamp: str | None = None
    rails_mw: dict[str, float] = field(default_factory=dict)
    nc_rails: int = 0  # rails labelled NC (not connected), never counted
    temperatures_c: dict[str, float | None] = field(default_factory=dict)
    gr3d_percent: float | None = None
    gr3d_freq_mhz: list[int] = field(default_factory=list)  # empty without root
    emc_percent: float | None = None
    emc_freq_mhz: int | None = None
    cpu_percent: list[float | None] = field(default_factory=list)  # None for a core that is off
    engines_off: list[str] = field(default_factory=list)


def parse_tegrastats_line(line: str) -> TegrastatsReading:
    """Parse a line of any tegrastats generation (JetPack 4 to 7)."""
    reading = TegrastatsReading()
    if match := TIMESTAMP.match(line):
        reading.timestamp = match.group("ts")
    for match in RAIL.finditer(line):
        if match.group("name") == "NC":
            reading.nc_rails += 1
        else:
            reading.rails_mw[match.group("name")] = float(match.group("cur"))
    for match in TEMPERATURE.finditer(line):
        value = float(match.group("value"))
        reading.temperatures_c[match.group("name")] = None if value <= ABSENT_TEMPERATURE_C else value
    if match := GR3D.search(line):
        if match.group("off"):
            reading.gr3d_percent = 0.0
        else:
            if match.group("pct") is not None:
                reading.gr3d_percent = float(match.group("pct"))
            if match.group("freq"):
                reading.gr3d_freq_mhz = [int(f) for f in match.group("freq").split(",") if f]
    if match := EMC.search(line):
        if match.group("pct") is not None:
            reading.emc_percent = float(match.group("pct"))
        if match.group("freq"):
            reading.emc_freq_mhz = int(match.group("freq"))
    if match := CPU.search(line):
        for core in match.group("cores").split(","):
            percent = core.strip().partition("%")[0]  # "12%@1479" -> "12"; "off" stays "off"
            reading.cpu_percent.append(float(percent) if percent.replace(".", "", 1).isdigit() else None)
    reading.engines_off = ENGINE_OFF.findall(line)
    return reading


@dataclass(frozen=True)
class BoardRule:
    """Which rail is the module total (or which rails sum to it) and which rails feed GPU, CPU, SOC."""

    board: str
    signature: frozenset[str]  # rails whose presence identifies the board
    total_rail: str | None = None
    summed_rails: tuple[str, ...] = ()  # when there is no total rail
    excluded: tuple[tuple[str, str], ...] = ()  # (rail, why it is not counted)
    gpu_rail: str | None = None
    cpu_rail: str | None = None
    soc_rail: str | None = None

    @property
    def counted_rails(self) -> tuple[str, ...]:
        return (self.total_rail,) if self.total_rail else self.summed_rails

    @property
    def total_name(self) -> str:
        return "+".join(self.counted_rails)


BOARD_RULES = (
    BoardRule(
        "Jetson Nano / TX1",
        frozenset({"POM_5V_IN"}),
        total_rail="POM_5V_IN",
        gpu_rail="POM_5V_GPU",
        cpu_rail="POM_5V_CPU",
    ),
    BoardRule(
        "Jetson AGX Orin",
        frozenset({"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"}),
        summed_rails=("VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"),
        excluded=(("VDDQ_VDD2_1V8AO", "already inside VIN_SYS_5V0"),),
        gpu_rail="VDD_GPU_SOC",
        cpu_rail="VDD_CPU_CV",
        soc_rail="VDD_GPU_SOC",
    ),
    BoardRule(
        "Jetson AGX Xavier",
        frozenset({"GPU", "CPU", "SOC", "SYS5V"}),
        summed_rails=("GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"),
        gpu_rail="GPU",
        cpu_rail="CPU",
        soc_rail="SOC",
    ),
    BoardRule(
        "Jetson AGX Thor",
        frozenset({"VIN", "VDD_GPU", "VDD_CPU_SOC_MSS"}),
        total_rail="VIN",
        gpu_rail="VDD_GPU",
        cpu_rail="VDD_CPU_SOC_MSS",
        soc_rail="VDD_CPU_SOC_MSS",
    ),
    BoardRule(
        "Jetson TX2",
        frozenset({"VDD_IN", "VDD_SYS_GPU"}),
        total_rail="VDD_IN",
        gpu_rail="VDD_SYS_GPU",
        cpu_rail="VDD_SYS_CPU",
        soc_rail="VDD_SYS_SOC",
    ),
    BoardRule(
        "Jetson Xavier NX / Orin Nano / Orin NX",
        frozenset({"VDD_IN", "VDD_CPU_GPU_CV"}),
        total_rail="VDD_IN",
        gpu_rail="VDD_CPU_GPU_CV",
        cpu_rail="VDD_CPU_GPU_CV",
        soc_rail="VDD_SOC",
    ),
    BoardRule("Jetson (module input VDD_IN)", frozenset({"VDD_IN"}), total_rail="VDD_IN"),
)


def board_rule(rails: set[str] | list[str]) -> BoardRule:
    """The rule for the board whose rails these are; SensorUnavailable for an unknown rail set."""
    rails = set(rails)
    for rule in BOARD_RULES:
        if rule.signature <= rails:
            if rule.summed_rails:  # sum only the rails this board shows; AGX Xavier may lack CV
                present = tuple(r for r in rule.summed_rails if r in rails)
                return BoardRule(
                    rule.board,
                    rule.signature,
                    None,
                    present,
                    rule.excluded,
                    rule.gpu_rail,
                    rule.cpu_rail,
                    rule.soc_rail,
                )
            return rule
    raise SensorUnavailable(
        f"the rails {', '.join(sorted(rails)) or '(none)'} match no known Jetson board, so "
        "hwprof cannot tell which is the module total without guessing; please report them"
    )


def total_power_mw(rule: BoardRule, rails_mw: dict[str, float]) -> float | None:
    """The module's total power by the board's rule, or None if a counted rail is missing."""
    if any(r not in rails_mw for r in rule.counted_rails):
        return None
    return sum(rails_mw[r] for r in rule.counted_rails)


def find_tegrastats(explicit: str | None = None) -> str | None:
    """--tegrastats PATH, else HWPROF_TEGRASTATS, else PATH, else /usr/bin/tegrastats."""
    if explicit:
        return explicit
    from_env = os.environ.get("HWPROF_TEGRASTATS")
    if from_env:
        return from_env
    on_path = shutil.which("tegrastats")
    if on_path:
        return on_path
    return "/usr/bin/tegrastats" if os.access("/usr/bin/tegrastats", os.X_OK) else None


# -- INA3221 sysfs ---------------------------------------------------------------


@dataclass
class InaRail:
    name: str
    power_path: Path | None = None  # iio: milliwatts directly
    voltage_path: Path | None = None  # hwmon: millivolts
    current_path: Path | None = None  # hwmon: milliamps
    error: str | None = None  # why this labelled rail cannot be read; None when it can

    def read_mw(self) -> float:
        if self.power_path is not None:
            return float(self.power_path.read_text())
        return float(self.voltage_path.read_text()) * float(self.current_path.read_text()) / 1000.0

    def check(self) -> None:
        """Read once; a file absent or unreadable is named in `error`, so the rail is not dropped unsaid."""
        paths = [self.power_path] if self.power_path is not None else [self.voltage_path, self.current_path]
        for path in paths:
            if not path.exists():
                self.error = f"the INA3221 rail {self.name} has no {path.name} file ({path})"
                return
        try:
            self.read_mw()
        except (OSError, ValueError) as error:
            self.error = f"cannot read the INA3221 rail {self.name} ({', '.join(str(p) for p in paths)}): {error}"


def discover_ina3221() -> list[InaRail]:
    """Every labelled INA3221 rail: hwmon (JetPack 5+) or iio (JetPack 4). NC channels are left out, and so is
    the hwmon summing channel (in7, "sum of shunt voltages"): not a rail. A rail that cannot be read is kept with its
    `error`, so the reason names it rather than the rails that remain."""
    rails = []
    for chip in sorted(sysfs_path("/sys/class/hwmon").glob("hwmon*")):
        if read_text(chip / "name") != "ina3221":
            continue
        for label_path in sorted(chip.glob("in*_label")):
            channel = label_path.name[2 : -len("_label")]
            label = read_text(label_path)
            current_path = chip / f"curr{channel}_input"
            if channel not in RAIL_CHANNELS and not current_path.exists():
                continue  # a channel with no current of its own (the summing one) measures no rail
            rail = InaRail(label or "", voltage_path=chip / f"in{channel}_input", current_path=current_path)
            if label and label != "NC":
                rails.append(rail)
    for device in sorted(sysfs_path("/sys/bus/iio/devices").glob("iio:device*")):
        if "ina3221" not in (read_text(device / "name") or ""):
            continue
        for name_path in sorted(device.glob("rail_name_*")):
            channel = name_path.name.rsplit("_", 1)[1]
            label = read_text(name_path)
            power_path = device / f"in_power{channel}_input"
            if label and label != "NC":
                rails.append(InaRail(label, power_path=power_path))
    for rail in rails:
        rail.check()
    return rails


# -- sensors ---------------------------------------------------------------------


class RailSensor(PowerSensor):
    """Shared by tegrastats and INA3221: rails in, board-rule total and per-rail samples out."""

    origin = ""

    def _configure(self, rails: list[str]) -> None:
        self.rule = board_rule(rails)
        self.primary_sensor = self.rule.total_name
        self.source = f"{self.origin}:{self.rule.total_name}"

    def _rail_samples(self, t_s: float, rails_mw: dict[str, float]) -> list[PowerSample]:
        samples = [PowerSample(t_s, name, mw / 1000.0) for name, mw in rails_mw.items()]
        total_mw = total_power_mw(self.rule, rails_mw)
        if total_mw is not None and len(self.rule.counted_rails) > 1:
            samples.append(PowerSample(t_s, self.primary_sensor, total_mw / 1000.0))
        return samples

    def _summarise_window(self, window, states: list[dict]) -> None:
        by_rail: dict[str, list[float]] = {}
        for sample in window.samples:
            by_rail.setdefault(sample.sensor, []).append(sample.power_w)
        rail_means = {name: round(statistics.fmean(values), 4) for name, values in by_rail.items()}
        window.metadata["rail_power_w"] = rail_means
        for role in ("gpu", "cpu", "soc"):
            rail = getattr(self.rule, f"{role}_rail")
            if rail in rail_means:
                window.metadata[f"{role}_power_w"] = rail_means[rail]
        frequencies = {tuple(s["gr3d_freq_mhz"]) for s in states if s.get("gr3d_freq_mhz")}
        emc = {s["emc_freq_mhz"] for s in states if s.get("emc_freq_mhz")}
        window.clocks_changed = len(frequencies) > 1 or len(emc) > 1
        if frequencies:
            window.metadata["gr3d_freq_mhz"] = [list(f) for f in sorted(frequencies)]
        if emc:
            window.metadata["emc_freq_mhz"] = sorted(emc)
        # the GPU's and memory's clocks as NVML's are given (gpu_sm_clock_mhz, gpu_mem_clock_mhz): medians, the
        # fastest of a GPU's clusters in each reading
        gpu_clocks = [max(s["gr3d_freq_mhz"]) for s in states if s.get("gr3d_freq_mhz")]
        memory_clocks = [s["emc_freq_mhz"] for s in states if s.get("emc_freq_mhz")]
        if gpu_clocks:
            window.metadata["sm_clock_mhz_median"] = statistics.median(gpu_clocks)
        if memory_clocks:
            window.metadata["mem_clock_mhz_median"] = statistics.median(memory_clocks)
        for key in ("gr3d_percent", "emc_percent"):  # how busy the GPU and the memory controller were
            seen = [s[key] for s in states if s.get(key) is not None]
            if seen:
                window.metadata[f"{key}_median"] = statistics.median(seen)

    def _rule_metadata(self) -> dict:
        return {
            "board": self.rule.board,
            "total_rail": self.rule.total_rail,
            "summed_rails": list(self.rule.summed_rails),
            "excluded_rails": {rail: why for rail, why in self.rule.excluded},
            "gpu_rail": self.rule.gpu_rail,
            "cpu_rail": self.rule.cpu_rail,
            "soc_rail": self.rule.soc_rail,
            "update_period_s": self.update_period_s,
            "poll_interval_s": self.poll_interval_s,
            "min_window_s": self.min_window_s,
        }


class Ina3221Sensor(RailSensor):
    """Rails read straight from the INA3221 monitors: faster and lighter than tegrastats."""

    origin = "ina3221"
    poll_interval_s = INA_POLL_INTERVAL_S
    min_window_s = INA_MIN_WINDOW_S

    def __init__(self, rails: list[InaRail] | None = None) -> None:
        super().__init__()
        found = discover_ina3221() if rails is None else rails
        if not found:
            raise SensorUnavailable("no readable INA3221 power monitor under /sys/class/hwmon or /sys/bus/iio")
        self._configure([r.name for r in found])  # every label: a rail that cannot be read still names the board
        lost = [r for r in found if r.error and r.name in self.rule.counted_rails]
        if lost:
            raise SensorUnavailable(f"{lost[0].error}, and the board's total ({self.rule.total_name}) needs it")
        self.rails = [r for r in found if not r.error]
        self.unreadable_rails = {r.name: r.error for r in found if r.error}  # sub-rails only: traced without them
        self.update_period_probed = False

    def _open_hardware(self) -> None:
        first = next(r for r in self.rails if r.name == self.rule.counted_rails[0])
        self.update_period_s, self.update_period_probed = probe_update_period(
            first.read_mw, max_probe_s=0.5, nominal_s=INA_NOMINAL_UPDATE_PERIOD_S
        )

    def _poll_samples(self, now: float) -> list[PowerSample]:
        return self._rail_samples(now, {r.name: r.read_mw() for r in self.rails})

    def metadata(self) -> dict:
        return {
            "driver": "jetson",
            "reader": "ina3221 sysfs",
            "source": self.source,
            "rails": [r.name for r in self.rails],
            "unreadable_rails": self.unreadable_rails,
            "update_period_probed": self.update_period_probed,
            **self._rule_metadata(),
        }


def _read_lines(stdout, lines: queue.Queue) -> None:
    """tegrastats' lines, parsed, into the sensor's queue as they come; None when its output ends. It never raises:
    an exception here would print as a traceback from its thread, while the sensor reports the end in words."""
    try:
        for line in stdout:
            lines.put((time.monotonic(), parse_tegrastats_line(line.strip())))
    except (OSError, ValueError):  # bytes that are not text: its output ends here
        pass
    lines.put((time.monotonic(), None))
    stdout.close()  # here, once no read is blocked on it: closed from another thread, close() waits for that read


def _drain_stderr(stderr, said: deque) -> None:
    """Read tegrastats' stderr as it comes, keeping its last line for the error messages: unread, a tegrastats
    that writes there fills the pipe, blocks, and stops printing rails."""
    try:
        for line in stderr:
            if line.strip():
                said.append(line.strip())
    except (OSError, ValueError):  # bytes that are not text: nothing more to keep
        pass
    stderr.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal tegrastats and every process it started (a wrapper script's child holds the pipe as well)."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):  # all gone, or run by sudo as root: sudo passes SIGTERM on
        pass


def _end_process(process: subprocess.Popen, readers: tuple[threading.Thread, ...]) -> None:
    """Stop tegrastats' process group (SIGTERM, then SIGKILL for what is left after 2 s) and let its readers end
    on their pipes' ends. Every wait is bounded: a child that left the group (or that hwprof may not signal) can
    hold the pipes for as long as it likes, and then the readers, daemon threads, end when it does."""
    _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + END_TIMEOUT_S
    try:
        process.wait(timeout=END_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    for reader in readers:
        reader.join(timeout=max(deadline - time.monotonic(), 0))
    if process.poll() is None or any(reader.is_alive() for reader in readers):
        _signal_group(process, signal.SIGKILL)
        try:
            process.wait(timeout=END_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + END_TIMEOUT_S
        for reader in readers:
            reader.join(timeout=max(deadline - time.monotonic(), 0))


class TegrastatsSensor(RailSensor):
    """Rails from a tegrastats process started at a chosen interval."""

    origin = "tegrastats"
    min_window_s = TEGRASTATS_MIN_WINDOW_S

    def __init__(
        self, path: str, interval_ms: int = TEGRASTATS_INTERVAL_MS, start_timeout_s: float = START_TIMEOUT_S
    ) -> None:
        super().__init__()
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise SensorUnavailable(
                worded(
                    f"tegrastats at {path} is not an executable file; pass the right path with "
                    f"{option('tegrastats', 'PATH')} or HWPROF_TEGRASTATS"
                )
            )
        self.path = path
        self.interval_ms = interval_ms
        self.start_timeout_s = start_timeout_s  # for its first rails; shorter where a listing must stay quick
        self.update_period_s = interval_ms / 1000.0
        self.poll_interval_s = self.update_period_s / 2
        self._lines: queue.Queue = queue.Queue()
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._stderr_reader: threading.Thread | None = None
        self._said: deque[str] = deque(maxlen=1)  # the last line tegrastats wrote to stderr
        self._last_state: dict = {}
        self.rule = None

    def _open_hardware(self) -> None:
        try:
            self._process = subprocess.Popen(
                [self.path, "--interval", str(self.interval_ms)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                start_new_session=True,  # a process group of its own, ended whole at close
            )
        except OSError as error:
            raise SensorUnavailable(f"cannot start tegrastats at {self.path}: {error}") from None
        # a sensor dropped unclosed is collected (its reader holds the pipe and the queue, not the sensor), and
        # then tegrastats ends, and its reader with it, rather than running and queueing lines for the process's life
        self._lines = queue.Queue()  # a reopened sensor does not read the end of its last tegrastats
        self._said = deque(maxlen=1)
        self._reader = threading.Thread(target=_read_lines, args=(self._process.stdout, self._lines), daemon=True)
        self._stderr_reader = threading.Thread(
            target=_drain_stderr, args=(self._process.stderr, self._said), daemon=True
        )
        self._end_process = weakref.finalize(self, _end_process, self._process, (self._reader, self._stderr_reader))
        self._reader.start()
        self._stderr_reader.start()
        deadline = time.monotonic() + self.start_timeout_s
        while self.rule is None:  # the first line tells which board this is
            remaining = deadline - time.monotonic()
            try:
                t_s, reading = self._lines.get(timeout=max(remaining, 0.01))
                ended = reading is None
            except queue.Empty:  # still running, silent: no wait for an exit that is not coming
                reading, ended = None, False
            if reading is None or remaining <= 0:
                raise SensorUnavailable(self._start_failure(ended=ended))  # open() closes after: stderr says why
            if reading.rails_mw:
                self._configure(list(reading.rails_mw))
                self._lines.put((t_s, reading))  # keep it as the first sample

    def _start_failure(self, ended: bool) -> str:
        """Why no rails came: the last line tegrastats wrote to stderr when it exited, else the wait."""
        if ended:  # its output ended: it is exiting, and its stderr is complete once it has
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        if self._process.poll() is not None:
            what = f"exited with status {self._process.returncode} before printing power rails{self._last_said()}"
        else:
            what = f"printed no power rails within {self.start_timeout_s:g} s"
        return f"tegrastats at {self.path} {what}; run it by hand to check, with sudo if it needs root"

    def _last_said(self) -> str:
        """The last line tegrastats wrote to stderr, in brackets, once it has exited: its stderr is complete when it
        ends, unless a child it left behind holds it, which is not waited for long."""
        self._stderr_reader.join(timeout=END_TIMEOUT_S)
        return f" ({self._said[-1]})" if self._said else ""

    def _close_hardware(self) -> None:
        if self._process is not None:
            self._end_process()
            self._process = None

    def _poll_samples(self, now: float) -> list[PowerSample]:
        samples = []
        while True:
            try:
                t_s, reading = self._lines.get_nowait()
            except queue.Empty:
                return samples
            if reading is None:
                raise SensorUnavailable(self._stop_reason())
            samples.extend(self._rail_samples(t_s, reading.rails_mw))
            self._last_state = {
                "gr3d_freq_mhz": reading.gr3d_freq_mhz,
                "gr3d_percent": reading.gr3d_percent,
                "emc_freq_mhz": reading.emc_freq_mhz,
                "emc_percent": reading.emc_percent,
                "temperatures_c": reading.temperatures_c,
            }

    def _stop_reason(self) -> str:
        """tegrastats ended its output mid-run (killed, timed out): what it said, if anything."""
        status = self._process.poll() if self._process is not None else None
        if status is None:
            how = "stopped printing while hwprof was reading it"
        else:
            how = f"exited with status {status} while hwprof was reading it{self._last_said()}"
        return f"tegrastats at {self.path} {how}; run it by hand to check"

    def _read_state(self) -> dict:
        return dict(self._last_state)

    def metadata(self) -> dict:
        return {
            "driver": "jetson",
            "reader": "tegrastats",
            "path": self.path,
            "interval_ms": self.interval_ms,
            "source": self.source,
            "uses": "instantaneous value of each rail (not tegrastats' average)",
            **self._rule_metadata(),
        }


def open_jetson_sensor(tegrastats: str | None = None) -> PowerSensor:
    """INA3221 sysfs when readable (faster), else tegrastats. Not opened yet."""
    ina_reason = None
    if not tegrastats:
        rails = discover_ina3221()
        if rails:
            try:
                return Ina3221Sensor(rails)
            except SensorUnavailable as unavailable:
                ina_reason = str(unavailable)  # an unreadable rail, or no known total: tegrastats may still do
    path = find_tegrastats(tegrastats)
    if path is None:
        if not is_jetson():  # the first thing to fix: installing the Jetson tools would not help
            raise SensorUnavailable(f"{NOT_A_JETSON}, and no readable INA3221 power monitor or tegrastats either")
        raise SensorUnavailable(
            worded(
                f"{ina_reason or 'no INA3221 power monitor is readable'}, and tegrastats is not found; pass "
                f"{option('tegrastats', 'PATH')}, set HWPROF_TEGRASTATS, or install nvidia-l4t-tools"
            )
        )
    return TegrastatsSensor(path)
