"""`hwprof run -- CMD ARGS...`: the wall time, energy and idle baseline of a whole command.

CodeCarbon's `monitor -- cmd`, with measure's honesty rules: the sensor that
covers the device is read over an idle window just before the command (the
baseline) and over the command itself; without a sensor, or for a command too
short for the sensor, the energy stays None and the reason says why. The
command runs as a child process with this process's environment and working
directory; Ctrl-C or SIGTERM is passed on to it and its end is still recorded.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from hwprof.drivers import SensorUnavailable
from hwprof.drivers.base import stopped_reason
from hwprof.errors import HwprofError, option
from hwprof.files import now_text
from hwprof.interrupts import signals_handled
from hwprof.measuring.energy import WINDOW_MARGIN, below_idle, required_window_s, trace_rows
from hwprof.measuring.window import mean_power_w, measured_power, unmeasured_reason


@dataclass
class CommandCost:
    """What one command cost. Energies are None where nothing honest was measured, and `unavailable_reason`
    says why; `idle_power_w` is the baseline measured just before the command started."""

    argv: list[str]
    device: str
    exit_status: int | None = None  # the shell's convention: 128 + N when a signal N ended the command
    duration_s: float | None = None
    energy_j: float | None = None  # gross: everything the sensor counted while the command ran
    power_w: float | None = None
    idle_power_w: float | None = None
    dynamic_energy_j: float | None = None  # energy_j net of the idle baseline over the command's duration
    power_spread: float | None = None  # the command's two halves' power apart, relative (None without halves)
    idle_s: float | None = None  # length of the idle window
    source: str | None = None
    flags: list[str] = field(default_factory=list)
    unavailable_reason: str | None = None
    stopped_at: str | None = None  # when the sensor stopped during the baseline or the command (flagged sensor_stopped)
    trace: list[tuple] = field(default_factory=list)  # trace rows (hwprof.traces) of both windows


class CannotStart(HwprofError):
    """CMD could not be started: the shell's statuses, 127 when there is no such command, 126 when it
    cannot be executed, so `hwprof run -- CMD` fails as CMD alone would."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _start(argv: list[str]) -> subprocess.Popen:
    """CMD started, and on Linux stopped (SIGTERM) if hwprof dies, even by SIGKILL, as measure's workers are:
    an orphaned CMD would go on running, and taking the machine, with nothing left to record it."""
    from hwprof.measuring.processes import stopped_with_parent

    name = shlex.quote(argv[0])
    try:
        return subprocess.Popen(argv, preexec_fn=stopped_with_parent(os.getpid()))
    except FileNotFoundError:
        raise CannotStart(f"cannot run {name}: no such command or file; check its name and your PATH", 127) from None
    except PermissionError:
        if os.path.isdir(argv[0]):  # as a shell says it, not as a file lacking its execute bit
            raise CannotStart(f"cannot run {name}: it is a directory", 126) from None
        if sys.platform == "win32":  # no execute bit there: a folder, or a file Windows keeps from this user
            raise CannotStart(f"cannot run {name}: Windows denied access to it (is it a folder?)", 126) from None
        raise CannotStart(
            f"cannot run {name}: it is not executable (permission denied); make it executable with chmod +x", 126
        ) from None
    except OSError as error:
        if error.errno == errno.ENOEXEC and sys.platform == "win32":  # a script: Windows starts only its programs
            raise CannotStart(
                f"cannot run {name}: it is not a Windows program; run it through its interpreter, "
                f"e.g. hwprof run -- python {shlex.join(argv)}",
                126,
            ) from None
        if error.errno == errno.ENOEXEC:  # a script without #!: shells and env run it with /bin/sh
            return _start(["/bin/sh", shutil.which(argv[0]) or argv[0], *argv[1:]])
        # a directory, an executable of another machine, ...: the shell says 126 too
        raise CannotStart(f"cannot run {name}: {error.strerror or error}", 126) from None


def _run_to_end(argv: list[str]) -> int:
    """Start `argv` and wait for its end; its exit status in the shell's convention.

    While the child runs, SIGINT and SIGTERM do not raise here: an exception landing between the kernel
    handing over the child's status and Popen recording it would lose the status (the retried wait then
    finds no child and reads 0). Ctrl-C reaches the child from the terminal as it would without hwprof, and
    is not sent again to a child that handles it; SIGTERM, and a SIGINT sent to hwprof alone (kill -INT), are
    passed on, so hwprof stands in for CMD. (Outside the main thread signals never raise here.)"""
    child, early = None, []

    def pass_on(signum, frame):
        if child is None:  # before the child exists: it gets the signal as soon as it does
            early.append(signum)
        elif signum != signal.SIGINT or not _handling_ctrl_c(child.pid):
            child.send_signal(signum)

    with signals_handled(pass_on):
        child = _start(argv)
        for signum in early:
            child.send_signal(signum)
        status = child.wait()
    return 128 - status if status < 0 else status


def _handling_ctrl_c(pid: int) -> bool:
    """Whether a SIGINT may be the terminal's Ctrl-C, which the child `pid` got as well, and whether the child may be
    handling it: a second SIGINT could cut short the clean-up it makes on the first. A child that does not catch
    SIGINT is sent it: a Ctrl-C has ended it already (a second is harmless), and a SIGINT sent to hwprof alone
    would otherwise be lost. Where the child's handlers cannot be read (no /proc), a Ctrl-C is assumed."""
    return _ctrl_c_at_terminal() and _catches_sigint(pid) is not False


def _catches_sigint(pid: int) -> bool | None:
    """Whether process `pid` has a SIGINT handler (a Python program has), from its /proc status; None where that
    cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            caught = next(line for line in status if line.startswith("SigCgt:"))
        return bool(int(caught.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def _ctrl_c_at_terminal() -> bool:
    """Whether a SIGINT may be the terminal's Ctrl-C, which CMD, in hwprof's process group, got as well: hwprof
    is in its terminal's foreground. A second SIGINT could cut short the clean-up CMD makes on the first. On
    Windows, which has no terminal process groups to ask (nor a SIGINT that Popen can send), a SIGINT is the
    console's Ctrl-C, which the console gives every process attached to it, CMD included."""
    if not hasattr(os, "tcgetpgrp"):
        return True
    try:
        tty = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:  # no controlling terminal: the signal was sent, to hwprof
        return False
    try:
        return os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(tty)


IDLE_MAX_S = 86400.0  # a day: a longer baseline is a typo (and inf would end in the sleep's overflow)


def check_command(argv: list[str], idle_s: float | None) -> None:
    """Refuse, before anything runs, a missing command or an idle window that is negative, not a number or
    longer than a day."""
    if not argv:
        raise HwprofError("no command was given; put it after --, e.g. hwprof run -- python train.py")
    if idle_s is not None and not (math.isfinite(idle_s) and 0 <= idle_s <= IDLE_MAX_S):
        raise HwprofError(f"{option('idle_s', idle_s)} must be a number of seconds from 0 to {IDLE_MAX_S:g}")


def check_idle(sensor, idle_s: float | None) -> None:
    """Refuse, before the command runs, an idle window shorter than `sensor` measures: it would give no baseline,
    so no dynamic energy, and the user would learn it only after waiting for the command to end."""
    if not idle_s or not sensor.available:
        return  # no baseline asked for, or no sensor to read (said after the command)
    shortest_s = required_window_s(sensor)
    if idle_s < shortest_s:
        at_least = math.ceil(round(shortest_s * 100, 6)) / 100  # rounded up, so the figure given is long enough
        raise HwprofError(
            f"{option('idle_s', idle_s)} is shorter than the shortest window {sensor.source} measures "
            f"({shortest_s:.3g} s), so the command would get no idle baseline: give at least {at_least:g}, "
            "or 0 to skip the baseline"
        )


def measure_command(argv: list[str], device: str, sensor, idle_s: float | None = None) -> CommandCost:
    """Run `argv` to its end and say what it cost, read from `sensor` (open, from hwprof.drivers.open_sensor,
    or a NoSensor; the caller closes it). `idle_s` is the idle baseline's length (default: the sensor's
    minimum valid window with measure's margin; 0 skips the baseline; shorter than that window is refused)."""
    check_command(argv, idle_s)
    check_idle(sensor, idle_s)
    cost = CommandCost(argv=list(argv), device=device, source=sensor.source, unavailable_reason=sensor.reason)
    mark = None
    if sensor.available:
        cost.idle_s = required_window_s(sensor) * WINDOW_MARGIN if idle_s is None else idle_s
        mark = _stopped_or(cost, lambda: _idle_then_mark(sensor, cost))
    started = time.perf_counter()
    cost.exit_status = _run_to_end(argv)
    cost.duration_s = time.perf_counter() - started
    if mark is not None:
        _stopped_or(cost, lambda: _measure_load(sensor, cost, sensor.window_since(mark)))
    return cost


def _stopped_or(cost: CommandCost, read):
    """`read()`, or None where the sensor stopped (tegrastats exited, a GPU fell off the bus): the command
    still runs and keeps its status, and its energy stays None with the reason, flagged sensor_stopped as
    measure flags its rows timed after a stop."""
    try:
        return read()
    except SensorUnavailable as lost:
        cost.unavailable_reason = stopped_reason(lost)
        cost.stopped_at = now_text()
        cost.flags.append("sensor_stopped")
        return None


def _idle_then_mark(sensor, cost: CommandCost):
    if cost.idle_s > 0:
        _measure_idle(sensor, cost)
    return sensor.mark()


def _measure_idle(sensor, cost: CommandCost) -> None:
    mark = sensor.mark()
    sensor.clock.sleep(cost.idle_s)
    idle = sensor.window_since(mark)
    cost.trace.extend(trace_rows(idle, "idle"))
    if idle.energy_j is not None and "short_window" not in idle.flags:
        cost.idle_power_w = mean_power_w(idle)
    else:
        cost.flags.append("idle_short_window" if "short_window" in idle.flags else "idle_no_energy")
    cost.flags.extend(f"idle_{f}" for f in idle.flags if f in ("throttled", "clocks_changed"))


def _measure_load(sensor, cost: CommandCost, load) -> None:
    cost.trace.extend(trace_rows(load, "load"))
    cost.flags = list(dict.fromkeys([*load.flags, *cost.flags]))
    if load.energy_j is None or "short_window" in load.flags:
        lasted = f"the command ran {cost.duration_s:.3f} s"
        cost.unavailable_reason = unmeasured_reason(sensor, load, lasted, during="the command")
        return
    measured_power(cost, load)
    if cost.idle_power_w is not None:
        cost.dynamic_energy_j = (cost.power_w - cost.idle_power_w) * load.duration_s
        if below_idle(cost.power_w, cost.idle_power_w):
            cost.flags.append("below_idle")


def command_row(cost: CommandCost, device_name: str, measure_s: float) -> dict:
    """The dataset row of a measured command (kind "command", op "command", the command line as its model)."""
    line = shlex.join(cost.argv)
    return {
        "kind": "command",
        "model": line,
        "batch_size": None,
        "device": cost.device,
        "device_name": device_name,
        "layer_index": -1,
        "layer_name": line,
        "op": "command",
        "config": json.dumps({"argv": cost.argv, "exit_status": cost.exit_status, "idle_s": cost.idle_s}),
        "latency_ms": cost.duration_s * 1000.0,
        "samples": 1,
        "iterations": 1,
        "power_w": cost.power_w,
        "idle_power_w": cost.idle_power_w,
        "energy_mj": _millijoules(cost.energy_j),
        "dynamic_energy_mj": _millijoules(cost.dynamic_energy_j),
        "power_source": cost.source,
        "power_flags": ",".join(cost.flags) if cost.flags or cost.power_w is not None else None,  # null: no power
        "power_spread": cost.power_spread,
        "measure_s": measure_s,
    }


def _millijoules(joules: float | None) -> float | None:
    return None if joules is None else joules * 1000.0


def board_words(device_name, device, unrecorded: str) -> str:
    """The board a command ran on, "NVIDIA H100 (cuda:0)": a runs file gathers commands from many boards;
    `unrecorded` where the row names neither."""
    names = [name for name in (device_name, device) if isinstance(name, str) and name]
    return f"{names[0]} ({names[1]})" if len(names) == 2 else (names[0] if names else unrecorded)
