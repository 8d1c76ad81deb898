"""CPU energy from RAPL through the Linux powercap sysfs (Intel, and AMD Zen).

Zones are recognised by name. Only the outermost zone of each kind is counted:
psys contains the packages, a package contains its core and uncore zones, and
die zones that merely mirror their package's counter (identical readings, as
some AMD parts show) count once. DRAM is a separate domain; it is sampled and
traced but not added to the package total, so `power_source` says exactly what
was summed. The intel-rapl-mmio zones repeat the MSR package counter and are
skipped. Counters wrap at `max_energy_range_uj`; a background poll at least
four times per shortest possible wrap unfolds every wrap, at any window length.
A step no power the zone could draw explains (backwards where a wrap would mean
too much energy for the time since the last read, or far forward) is a faulty
counter: the sensor stops with the reason rather than giving the step as energy.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hwprof.drivers.base import PowerSample, PowerSensor, SensorUnavailable, probe_update_period
from hwprof.drivers.host import cpu_affinity, cpu_names, cpufreq_settings, read_text, sysfs_path

POWERCAP_DIR = "/sys/class/powercap"
PACKAGE_NAME = re.compile(r"^package-(\d+)$")
DIE_NAME = re.compile(r"^package-(\d+)-die-(\d+)$")
ASSUMED_MAX_POWER_W = 1000.0  # per zone, when the zone states no power constraint
# A step between two reads may hold this many times the zone's highest stated power over the time between them,
# plus COUNTER_LAG_S: turbo (PL2) runs above the long-term limit for a while, and a read can show a counter
# updated up to an update period (or a delayed update) before it. Beyond that the step is a faulty counter.
STEP_POWER_MARGIN = 3.0
COUNTER_LAG_S = 0.1
NOMINAL_UPDATE_PERIOD_S = 0.001  # RAPL counters update about every millisecond
PROBE_S = 0.3  # how long opening reads the counter for its update period; one that never moves is frozen
MIN_WINDOW_S = 0.5
MAX_POLL_INTERVAL_S = 0.05
MIN_POLL_INTERVAL_S = 0.001
MIRROR_SNAPSHOTS = 20
POWER_FILES = ("constraint_*_max_power_uw", "constraint_*_power_limit_uw")

PERMISSION_FIX = (
    "RAPL energy counters ({path}) are readable only by root on this kernel; allow reading with "
    "`sudo chmod o+r {glob}` (until reboot) or the udev rule "
    'ACTION=="add", SUBSYSTEM=="powercap", RUN+="/bin/chmod o+r /sys%p/energy_uj", '
    "or give the interpreter `sudo setcap cap_dac_read_search+ep $(readlink -f $(which python))`, "
    "or run hwprof as root"
)
# Root refused: sudo, setcap and chmod inside cannot lift what confines this root, so the fix is outside it.
ROOT_PERMISSION_FIX = (
    "RAPL energy counters ({path}) cannot be read even as root here, so this root is confined (a rootless or "
    "user-namespaced container, whose root is not the host's, or an AppArmor or SELinux policy) and sudo or "
    "setcap inside it cannot help; run the container with `--privileged` (or without user-namespace "
    "remapping), or let every user read the counters on the host with `sudo chmod o+r {glob}`"
)


def read_counter_uj(path: Path) -> int:
    """One read of a powercap energy counter in microjoules."""
    return int(path.read_text().strip())


@dataclass
class RaplZone:
    zone_id: str  # e.g. "intel-rapl:0:1"
    name: str  # e.g. "package-0", "core", "dram"
    path: Path
    parent_id: str | None
    max_range_uj: int
    max_power_w: float | None
    package: int | None = None
    die: int | None = None
    role: str = "other"  # package, die, core, uncore, dram, psys, other
    counted: bool = False
    mirrors: str | None = None  # name of the die this one mirrors
    label: str = ""  # its name in samples and the source: the name, made distinct where two zones share it
    readable: bool = True
    error: str | None = None
    # counter unfolding state
    last_raw_uj: int | None = field(default=None, repr=False)
    last_read_s: float = field(default=0.0, repr=False)
    total_uj: int = field(default=0, repr=False)
    last_poll: tuple[float, int] | None = field(default=None, repr=False)

    @property
    def energy_path(self) -> Path:
        return self.path / "energy_uj"

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def unfolded_uj(self, now_s: float) -> int:
        """Read the counter (at monotonic `now_s`) and add the increase since the last read, unfolding one wrap;
        a step no power the zone could draw explains raises SensorUnavailable instead of becoming energy."""
        raw = read_counter_uj(self.energy_path)
        if self.last_raw_uj is not None:
            delta = raw - self.last_raw_uj
            if delta < 0:
                delta += self.max_range_uj
            self._check_step(raw, delta, now_s - self.last_read_s)
            self.total_uj += delta
        self.last_raw_uj, self.last_read_s = raw, now_s
        return self.total_uj

    def _check_step(self, raw: int, delta_uj: int, elapsed_s: float) -> None:
        """Refuse a step beyond STEP_POWER_MARGIN times the zone's highest stated power over the time since the
        last read: a counter that went back with no wrap to explain it (where no power is stated, 1 kW still
        tells a 262 kJ wrap in a second from a real one), or one that leapt forward (only where power is stated)."""
        backwards = raw < self.last_raw_uj
        ceiling_w = self.max_power_w or (ASSUMED_MAX_POWER_W if backwards else None)
        if ceiling_w is None or delta_uj <= STEP_POWER_MARGIN * ceiling_w * (elapsed_s + COUNTER_LAG_S) * 1e6:
            return
        stated = (
            f"the {ceiling_w:g} W the zone states as its most"
            if self.max_power_w
            else f"{ceiling_w:g} W (more than a CPU package draws)"
        )
        if backwards:
            raise SensorUnavailable(
                f"the counter of rapl:{self.label} went back by {(self.last_raw_uj - raw) / 1e6:.3g} J, which no "
                f"wrap explains: a wrap at {self.max_range_uj / 1e6:g} J would mean {delta_uj / 1e6:.3g} J in "
                f"{elapsed_s:.3g} s, over {STEP_POWER_MARGIN:g} times {stated}; a faulty counter gives no energy"
            )
        raise SensorUnavailable(
            f"the counter of rapl:{self.label} jumped by {delta_uj / 1e6:.3g} J in {elapsed_s:.3g} s, over "
            f"{STEP_POWER_MARGIN:g} times {stated}; a faulty counter gives no energy"
        )


def _classify(zone: RaplZone) -> None:
    if match := PACKAGE_NAME.match(zone.name):
        zone.role, zone.package = "package", int(match.group(1))
    elif match := DIE_NAME.match(zone.name):
        zone.role, zone.package, zone.die = "die", int(match.group(1)), int(match.group(2))
    elif zone.name in ("core", "uncore", "dram", "psys"):
        zone.role = zone.name


def discover_zones(root: Path | None = None) -> list[RaplZone]:
    """Every RAPL zone under the powercap directory, classified by name; [] when there is none."""
    root = root or sysfs_path(POWERCAP_DIR)
    if not root.is_dir():
        return []
    zones = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        control, _, index = entry.name.partition(":")
        if not index or control != "intel-rapl":  # "intel-rapl" itself is the control type
            continue  # intel-rapl-mmio repeats the MSR package counter; counting it would double
        name = read_text(entry / "name")
        max_range = read_text(entry / "max_energy_range_uj")
        zone = RaplZone(
            zone_id=entry.name,
            name=name or entry.name,
            path=entry,
            parent_id=entry.name.rsplit(":", 1)[0] if entry.name.count(":") > 1 else None,
            max_range_uj=int(max_range) if max_range and max_range.isdigit() and int(max_range) > 0 else 0,
            max_power_w=_highest_power_w(entry),
        )
        _classify(zone)
        missing = [f for f, text in (("name", name), ("max_energy_range_uj", max_range)) if text is None]
        if missing or not name:  # kept, unreadable, so the reason names it rather than the zones that remain
            zone.role = zone.role if name else "unknown"  # a nameless zone may be a package
            zone.readable = False
            zone.error = (
                _missing_file(entry, name, missing[0])
                if missing
                else f"the RAPL zone {entry.name} has an empty name file ({entry / 'name'}), so what it measures "
                "is unknown and its energy cannot be counted"
            )
            zones.append(zone)
            continue
        if not zone.max_range_uj:  # wraps could not be unfolded: unusable, as garbage in energy_uj is
            zone.readable = False
            zone.error = f"cannot parse {entry / 'max_energy_range_uj'} ({max_range!r}): not a positive whole number"
            zones.append(zone)
            continue
        try:
            read_counter_uj(zone.energy_path)
        except FileNotFoundError:
            zone.readable = False
            zone.error = _missing_file(entry, name, "energy_uj")
        except PermissionError:
            zone.readable = False
            advice = ROOT_PERMISSION_FIX if os.geteuid() == 0 else PERMISSION_FIX
            zone.error = advice.format(path=zone.energy_path, glob=root / "intel-rapl:*" / "energy_uj")
        except (OSError, ValueError) as error:
            zone.readable = False
            zone.error = f"cannot read {zone.energy_path}: {error}"
        zones.append(zone)
    return zones


def _highest_power_w(entry: Path) -> float | None:
    """The most power a zone states in any constraint (its maximum or its limit: PL1, PL2 and PL4 on Intel), so
    turbo is within it; None where it states none."""
    texts = [read_text(path) for pattern in POWER_FILES for path in entry.glob(pattern)]
    powers_uw = [int(text) for text in texts if text and text.isdigit() and int(text) > 0]
    return max(powers_uw) / 1e6 if powers_uw else None


def _missing_file(entry: Path, name: str | None, file: str) -> str:
    """A zone file that is absent or unreadable, named with its zone."""
    zone = f"{entry.name} ({name})" if name else entry.name
    return (
        f"the RAPL zone {zone} has no {file} file that can be read ({entry / file}), so its energy cannot be measured"
    )


def _label_zones(zones: list[RaplZone]) -> None:
    """Name each zone distinctly in samples and the source: by its name where that is unique, else under its
    parent's label ("package-1/core": a core zone per socket, traced as one, drew a zigzag) or, at the top, its
    zone id ("intel-rapl:1/package-0"). A single socket's names stay as they were."""
    by_id = {zone.zone_id: zone for zone in zones}
    counts = Counter(zone.name for zone in zones)

    def label(zone: RaplZone) -> str:
        if counts[zone.name] == 1:
            return zone.name
        parent = by_id.get(zone.parent_id)
        return f"{label(parent) if parent else zone.zone_id}/{zone.name}"

    for zone in zones:
        zone.label = label(zone)


def _dies_mirror(dies: list[RaplZone]) -> bool:
    """True when the dies of one package report one counter: identical readings, seen twice.

    Independent dies never agree to the microjoule; mirrored ones do except
    when an update lands between the reads, so two agreeing snapshots suffice.
    """
    if len({d.max_range_uj for d in dies}) != 1:
        return False
    identical = 0
    for _ in range(MIRROR_SNAPSHOTS):
        identical += len({read_counter_uj(d.energy_path) for d in dies}) == 1
        if identical >= 2:
            return True
        time.sleep(0.002)
    return False


def choose_counted(zones: list[RaplZone]) -> list[RaplZone]:
    """Mark the zones whose energies add up without overlap, and return them."""
    readable = [z for z in zones if z.readable]
    packages = [z for z in readable if z.role == "package"]
    package_numbers = {z.package for z in packages}
    dies_by_package: dict[int, list[RaplZone]] = {}
    for zone in readable:
        if zone.role == "die" and zone.package not in package_numbers:
            dies_by_package.setdefault(zone.package, []).append(zone)
    counted = list(packages)
    for dies in dies_by_package.values():
        dies.sort(key=lambda z: z.die)
        if len(dies) > 1 and _dies_mirror(dies):
            counted.append(dies[0])
            for die in dies[1:]:
                die.mirrors = dies[0].name
        else:
            counted.extend(dies)
    if not any(z.role in ("package", "die") for z in zones):  # an unreadable package is refused, never replaced
        counted = [z for z in readable if z.role == "psys"]
    for zone in counted:
        zone.counted = True
    return sorted(counted, key=lambda z: ((z.package if z.package is not None else 99), z.die or 0))


def unavailable_reason(zones: list[RaplZone]) -> str | None:
    """Why RAPL cannot measure here, or None when it can."""
    if not zones:
        from hwprof.drivers.host import no_rapl_reason

        powercap = sysfs_path(POWERCAP_DIR)
        if any(powercap.glob("intel-rapl-mmio:*")):
            return (
                f"only the MMIO RAPL interface (intel-rapl-mmio) is under {powercap}, and hwprof reads the MSR one "
                "(intel-rapl), which has every zone; load it with `sudo modprobe intel_rapl_msr`"
            )
        return no_rapl_reason()
    unreadable = [z for z in zones if not z.readable and z.role in ("package", "die", "psys", "unknown")]
    if unreadable and not any(z.readable and z.role in ("package", "die", "psys") for z in zones):
        return unreadable[0].error
    if lost := _left_out_of_total(zones):
        if any(z.readable and z.role in ("package", "die") for z in zones):
            return f"{lost.error}; the other zones alone would give part of the CPU as the whole"
        return f"{lost.error}; psys, the whole platform's power, is not taken in the CPU's place"
    if not any(z.role in ("package", "die", "psys") for z in zones):
        return (
            f"the RAPL zones under {sysfs_path(POWERCAP_DIR)} include no package or psys zone "
            f"(found {', '.join(z.name for z in zones)}), so the CPU's energy cannot be measured whole"
        )
    return None


def _left_out_of_total(zones: list[RaplZone]) -> RaplZone | None:
    """An unreadable zone of the CPU's (a package, a die its package does not cover, a nameless top zone):
    without it the total would be short, or psys (the whole platform) would stand for the CPU, so it stops RAPL
    rather than being skipped."""
    packages = {z.package for z in zones if z.readable and z.role == "package"}
    for zone in zones:
        if zone.readable:
            continue
        if zone.role == "package" or (zone.role == "die" and zone.package not in packages):
            return zone
        if zone.role == "unknown" and zone.parent_id is None:
            return zone
    return None


def coverage_notes(zones: list[RaplZone], counted: list[RaplZone]) -> list[str]:
    """What the total covers that a reader would not assume: a top zone of a kind hwprof does not know (left out,
    where it may be a socket), and packages this process cannot run on (a taskset on one socket still gets every
    socket's energy)."""
    notes = [
        f"the RAPL zone {z.zone_id} ({z.name}) is a top zone of a kind hwprof does not know, so it is traced but not "
        "added to the total"
        for z in zones
        if z.readable and z.parent_id is None and z.role == "other"
    ]
    counted_packages = {z.package for z in counted if z.package is not None}
    own_packages = _packages_of_this_process()
    if own_packages and len(counted_packages) > 1 and not counted_packages <= own_packages:
        notes.append(
            f"this process may run only on CPUs of package {', '.join(map(str, sorted(own_packages)))}, but the "
            f"energy covers every package counted ({'+'.join(z.label for z in counted)}), including ones it does "
            "not run on"
        )
    return notes


def _packages_of_this_process() -> set[int]:
    """The packages (sockets) of the CPUs this process may run on; empty where affinity or topology is unknown."""
    allowed = cpu_affinity()
    if allowed is None:
        return set()
    packages = set()
    for name in cpu_names():
        if int(name.removeprefix("cpu")) not in allowed:
            continue
        package = read_text(f"/sys/devices/system/cpu/{name}/topology/physical_package_id")
        if not (package and package.isdigit()):
            return set()  # one CPU's socket unknown: the process may run on any
        packages.add(int(package))
    return packages


def _read_cpu_settings() -> dict:
    """Frequency settings of cpu0 and the summed thermal-throttle counts of all CPUs."""
    cpu_dir = sysfs_path("/sys/devices/system/cpu")
    state: dict = cpufreq_settings("cpu0")
    state.pop("scaling_cur_freq", None)  # moves with load; the settings are what must stay put
    throttle_total = None
    for counter in cpu_dir.glob("cpu[0-9]*/thermal_throttle/package_throttle_count"):
        value = read_text(counter)
        if value is not None and value.isdigit():
            throttle_total = (throttle_total or 0) + int(value)
    if throttle_total is not None:
        state["package_throttle_count"] = throttle_total
    return state


class RaplSensor(PowerSensor):
    """Package (or psys) energy of the whole CPU from RAPL counters."""

    has_counter = True
    samples_are_instantaneous = False  # samples are differences of the same counter, no independent reading
    state_every_poll = False
    min_window_s = MIN_WINDOW_S

    def __init__(self, zones: list[RaplZone] | None = None) -> None:
        super().__init__()
        self.zones = discover_zones() if zones is None else zones
        reason = unavailable_reason(self.zones)
        if reason:
            raise SensorUnavailable(reason)
        _label_zones(self.zones)
        self.counted = choose_counted(self.zones)
        self.traced = [z for z in self.zones if z.readable and z.mirrors is None]
        names = "+".join(z.label for z in self.counted)
        self.source = f"rapl:{names}"
        self.notes = coverage_notes(self.zones, self.counted)
        self.primary_sensor = names
        self.update_period_probed = False
        self.poll_interval_s = self._poll_interval_for_wraps()

    def _poll_interval_for_wraps(self) -> float:
        """Poll at least four times per shortest possible wrap, so no wrap passes unseen."""
        shortest_wrap_s = min(
            (z.max_range_uj / 1e6) / (2 * z.max_power_w if z.max_power_w else ASSUMED_MAX_POWER_W) for z in self.traced
        )
        return max(MIN_POLL_INTERVAL_S, min(MAX_POLL_INTERVAL_S, shortest_wrap_s / 4))

    def _open_hardware(self) -> None:
        now = self.clock.monotonic()
        for zone in self.traced:
            zone.last_raw_uj, zone.total_uj, zone.last_poll = None, 0, None
            zone.unfolded_uj(now)
        first = self.counted[0]
        self.update_period_s, self.update_period_probed = probe_update_period(
            lambda: read_counter_uj(first.energy_path),
            max_probe_s=PROBE_S,
            nominal_s=NOMINAL_UPDATE_PERIOD_S,
            frozen_reason=self.no_energy_reason(f"{PROBE_S:g} s of reads as it opened"),
        )

    def _read_energy_j(self) -> float:
        now = self.clock.monotonic()
        return sum(z.unfolded_uj(now) for z in self.counted) / 1e6

    def _poll_samples(self, now: float) -> list[PowerSample]:
        samples = []
        total_w, complete = 0.0, True
        for zone in self.traced:
            energy_uj = zone.unfolded_uj(now)
            if zone.last_poll is not None and now > zone.last_poll[0]:
                power_w = (energy_uj - zone.last_poll[1]) / 1e6 / (now - zone.last_poll[0])
                samples.append(PowerSample(now, zone.label, power_w))
                total_w += power_w if zone.counted else 0.0
            elif zone.counted:
                complete = False
            zone.last_poll = (now, energy_uj)
        if len(self.counted) > 1 and complete:
            samples.append(PowerSample(now, self.primary_sensor, total_w))
        return samples

    def _read_state(self) -> dict:
        return _read_cpu_settings()

    def clock_key(self) -> tuple:
        state = _read_cpu_settings()
        return tuple(state.get(k) for k in ("scaling_governor", "scaling_min_freq", "scaling_max_freq"))

    def _summarise_window(self, window, states: list[dict]) -> None:
        if len(states) < 2:
            return
        first, last = states[0], states[-1]
        settings = ("scaling_governor", "scaling_min_freq", "scaling_max_freq")
        window.clocks_changed = any(first.get(k) != last.get(k) for k in settings)
        throttles = [first.get("package_throttle_count"), last.get("package_throttle_count")]
        window.throttled = None not in throttles and throttles[1] > throttles[0]
        window.metadata.update({k: last.get(k) for k in settings if k in last})

    def metadata(self) -> dict:
        return {
            "driver": "rapl",
            "source": self.source,
            "counted_zones": [z.label for z in self.counted],
            "zones": [
                {
                    "zone": z.zone_id,
                    "name": z.name,
                    "label": z.label,
                    "role": z.role,
                    "counted": z.counted,
                    "mirrors": z.mirrors,
                    "readable": z.readable,
                    "max_energy_range_uj": z.max_range_uj,
                }
                for z in self.zones
            ],
            "notes": self.notes,
            "rule": "psys contains package, package contains core/uncore, mirrored dies count once; "
            "dram is traced but not added",
            "update_period_s": self.update_period_s,
            "update_period_probed": self.update_period_probed,
            "poll_interval_s": self.poll_interval_s,
            "min_window_s": self.min_window_s,
        }
