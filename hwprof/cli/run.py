"""`hwprof run -- CMD ARGS...`: a command's wall time, energy and idle baseline, as a one-row dataset."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time

import click

from hwprof.cli.common import existing_tegrastats
from hwprof.drivers import POWER_KINDS
from hwprof.drivers.base import sensor_notes
from hwprof.errors import HwprofError, option
from hwprof.files import check_output, write_text_atomically
from hwprof.report import command_seconds_text


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="-- CMD [ARGS]...")
@click.option("--device", default="cpu", show_default=True, help="Device whose sensor is read: cpu, cuda or cuda:N.")
@click.option(
    "--power",
    type=click.Choice(POWER_KINDS),
    default="auto",
    show_default=True,
    help="Power sensor: auto picks the one covering --device; none measures time only.",
)
@click.option("--tegrastats", callback=existing_tegrastats, default=None, help="Path to tegrastats on a Jetson.")
@click.option(
    "--idle-s",
    "idle_s",
    type=float,
    default=None,
    help="Length of the idle baseline before CMD, in seconds [default: the sensor's minimum valid window x 1.2; "
    "0 skips it; shorter than that window is refused].",
)
@click.option(
    "--out",
    "-o",
    default=None,
    help="Dataset to write the row to (Parquet, or CSV when it ends in .csv); an existing one gets the row appended.",
)
@click.option("--trace", is_flag=True, help="Also write every power sample to OUT's stem + .trace.parquet.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (to stderr, like the text one).")
@click.option(
    "--json-out",
    "json_out",
    default=None,
    help="Also write the JSON summary to this file (replaced whole), for a script: CMD shares hwprof's stderr.",
)
@click.pass_context
def run(ctx, command, device, power, tegrastats, idle_s, out, trace, as_json, json_out):
    """Run CMD and measure its wall time and energy, with an idle baseline just before it.

    \b
        hwprof run -- python train.py --epochs 1
        hwprof run --device cuda:0 --out runs.parquet --trace -- ./bench.sh

    The sensor that covers --device is read over an idle window and then over
    CMD (RAPL for cpu, NVML for cuda, the module rails on a Jetson). Without a
    usable sensor, or when CMD ends sooner than the sensor can measure, the
    energy is left empty and the summary says why: nothing is estimated.

    CMD's own output is left alone; the summary goes to stderr. With --out the
    result is one dataset row (kind "command", the command line as its model,
    latency_ms its wall time, energy_mj, dynamic_energy_mj and idle_power_w
    from the sensor, the exit status in config), appended atomically when the
    dataset exists.

    The exit status is CMD's own (128 + N when signal N ended it), so
    `hwprof run -- CMD` can stand in for CMD in scripts and CI. A CMD that
    cannot be started exits as in a shell: 127 when there is no such command,
    126 when it is not executable; hwprof's own errors (bad options) exit 1
    before CMD runs. Ctrl-C reaches CMD as it would without hwprof, and a
    SIGTERM or SIGINT sent to hwprof is passed on to CMD; either way its end
    and its exit status are recorded. (A SIGINT that may be the terminal's
    Ctrl-C, hwprof being in its foreground, is not sent again to a CMD that
    handles SIGINT, as a Python program does: there send SIGTERM.)
    """
    from hwprof.drivers import open_sensor
    from hwprof.drivers.host import check_sysfs_root, parse_device
    from hwprof.measuring.command import check_command, command_row, measure_command
    from hwprof.measuring.provenance import device_name as name_of

    argv = list(command)
    check_command(argv, idle_s)
    check_sysfs_root()
    if device in SENSOR_KINDS:
        raise HwprofError(
            f"{option('device', device)} names a power sensor, not a device: give {option('power', device)}, "
            "with --device cpu (the default) or cuda:N"
        )
    device = str(parse_device(device))
    if trace and out is None:
        raise HwprofError(f"{option('trace', True)} names its file after the dataset: give --out too")
    if json_out is not None:  # before CMD runs, as --out: a bad path never costs a run
        check_output(json_out, inputs=[out] if out is not None else [], force=True)
    # before the sensor: naming a GPU loads torch's CUDA, whose UUID for the device is how NVML opens that GPU
    # (without it, the GPU is taken by index, which CUDA's fastest-first order makes a guess)
    device_name = name_of(device)
    sensor = open_sensor(power, device, tegrastats)
    try:
        on_sensor = sensor_notes(sensor, device)
        provenance = _check_dataset(out, device, argv, power, sensor, trace)
        begun = time.perf_counter()  # measure_s: the idle baseline and the command, not hwprof's own start-up
        cost = measure_command(argv, device, sensor, idle_s)
        measure_s = time.perf_counter() - begun
    finally:
        sensor.close()
    trace_path, written = None, out
    if out is not None:
        row = command_row(cost, device_name, measure_s)
        stop = {"stopped_reason": cost.unavailable_reason, "stopped_at": cost.stopped_at} if cost.stopped_at else None
        trace_path, written = _append_or_aside(out, provenance, (row, stop), cost.trace if trace else None)
    notes = on_sensor + _skipped_notes(cost, written, trace, trace_path, idle_s)
    summary = _summary(cost, device_name, written, trace_path, notes)
    if json_out is not None:
        write_text_atomically(json_out, json.dumps(summary, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=2), err=True)
    else:
        for line in _summary_lines(summary):
            click.echo(line, err=True)
    ctx.exit(cost.exit_status)


SENSOR_KINDS = tuple(kind for kind in POWER_KINDS if kind not in ("auto", "none"))  # what --power names, not --device
RUN_HOLDER = "hwprof run"  # how a run appending its row names itself in the dataset's lock
APPEND_WAIT_S = 60.0  # the longest wait for other runs appending to the same dataset


def _check_dataset(out, device: str, argv: list[str], power: str, sensor, trace: bool) -> dict | None:
    """The provenance of the row to write to `out` (None without --out), its dataset (and with --trace its trace)
    checked before CMD runs, so a bad --out never costs a run. Its lock is not held while CMD runs, only while the
    row is appended."""
    from hwprof.measuring.provenance import collect_provenance

    if out is None:
        return None
    provenance = collect_provenance(
        device,
        None,
        sys.argv,
        {
            "command": argv,
            "power": {
                "requested": power,
                "source": sensor.source,
                "unavailable_reason": sensor.reason,
                "sensor": sensor.metadata(),
            },
        },
    )
    _appending_writer(out, provenance).close()  # every check of the append, and nothing written
    if trace:
        _check_trace(out)
    return provenance


def _appending_writer(out, provenance: dict):
    """A writer adding to `out`, beside earlier runs and continuing none of them. Another `hwprof run` holding
    the dataset is appending its own row, which takes a moment: it is waited for (up to APPEND_WAIT_S), so
    parallel jobs can share a runs file; a measure or a merge writing it is refused at once. A holder that is
    gone by the time it is asked (a run that just finished), or that has not yet written its name, is waited
    for as a run is: only a named measure or merge refuses."""
    from hwprof.dataset import DatasetWriter, writer_of
    from hwprof.files import UNNAMED_HOLDER, LockedError
    from hwprof.measuring.provenance import end_facts

    deadline = time.monotonic() + APPEND_WAIT_S
    while True:
        try:
            return DatasetWriter(out, provenance, append=True, holder=RUN_HOLDER, end_facts=end_facts)
        except LockedError:
            holder = writer_of(out)
            named = holder not in (None, UNNAMED_HOLDER) and not holder.startswith(f"{RUN_HOLDER} (")
            if named or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _write_row(writer, row: tuple[dict, dict | None]) -> None:
    """The command's row, given with where the sensor stopped during it (None where it did not): the run's power
    provenance then keeps why and when, as measure's does, and the rows of the dataset before it."""
    values, stop = row
    if stop is not None:
        power = writer.provenance["power"]
        writer.provenance["power"] = {**power, **stop, "stopped_after_rows": len(writer.existing_rows())}
    writer.write([values])


def _append(out, provenance: dict, row: tuple[dict, dict | None], trace_rows: list[tuple] | None) -> str | None:
    """The row, and with --trace the samples, added under the dataset's lock; the trace's path where written."""
    writer = _appending_writer(out, provenance)
    try:
        _write_row(writer, row)
        return _append_trace(out, trace_rows, writer.run_id) if trace_rows is not None else None
    finally:
        writer.close()


def _append_or_aside(
    out, provenance: dict, row: tuple[dict, dict | None], trace_rows: list[tuple] | None
) -> tuple[str | None, str]:
    """(trace path, dataset written): the row appended to `out`, or, where `out` cannot take it now (a measure
    started writing it while CMD ran), written to a dataset of its own beside it, so that the command's
    measurement and its exit status are never lost to a lock."""
    from pathlib import Path

    from hwprof.dataset import DatasetWriter
    from hwprof.files import LockedError
    from hwprof.measuring.provenance import end_facts

    try:
        return _append(out, provenance, row, trace_rows), out
    except LockedError as refused:  # not a failed write: the aside file would fail the same way
        text = str(out)
        suffix = ".csv" if text.lower().endswith(".csv") else ".parquet"
        aside = f"{text.removesuffix(suffix)}.run-{os.getpid()}{suffix}"
        if Path(aside).exists():
            aside = f"{text.removesuffix(suffix)}.run-{os.getpid()}-{time.time_ns()}{suffix}"
        with DatasetWriter(aside, provenance, holder=RUN_HOLDER, end_facts=end_facts) as writer:
            _write_row(writer, row)
        trace_path = _append_trace(aside, trace_rows, writer.run_id) if trace_rows is not None else None
        click.echo(
            f"warning: {refused}; this command's row was written to {aside} instead: `hwprof merge {out} {aside} "
            "--out ...` joins them",
            err=True,
        )
        return trace_path, aside


def _check_trace(out: str) -> None:
    """An existing trace that cannot be read, or that holds another dataset's runs (a .csv and a .parquet of one
    stem share one), is refused before CMD runs, not after it with its row written and its exit status lost."""
    from hwprof.dataset import check_trace_owner
    from hwprof.traces import trace_path_for

    check_trace_owner(trace_path_for(out), out, resumed=True)  # each run appends to the runs file and its trace


def _append_trace(out: str, rows: list[tuple], run_id: str) -> str | None:
    """This command's samples, marked with its run, after those of earlier runs into the same trace file."""
    from hwprof.traces import append_trace, trace_path_for

    if not rows:
        return None
    path = trace_path_for(out)
    append_trace(rows, path, run_id)
    return path


def _skipped_notes(cost, out, trace: bool, trace_path, idle_s: float | None) -> list[str]:
    """What was asked for and not done, and why: an option is never ignored silently."""
    from hwprof.traces import trace_path_for

    reason = cost.unavailable_reason or "no power was sampled"
    notes = []
    if trace and trace_path is None:
        notes.append(f"no power trace written to {trace_path_for(out)}: {reason}")
    if idle_s and cost.idle_s is None:
        notes.append(f"no idle baseline measured (--idle-s {idle_s:g}): there is no power sensor to read")
    return notes


def _summary(cost, device_name: str | None, out, trace_path, notes: list[str]) -> dict:
    return {
        "command": cost.argv,
        "exit_status": cost.exit_status,
        "device": cost.device,
        "device_name": device_name,
        "duration_s": cost.duration_s,
        "energy_j": cost.energy_j,
        "power_w": cost.power_w,
        "idle_power_w": cost.idle_power_w,
        "idle_s": cost.idle_s,
        "dynamic_energy_j": cost.dynamic_energy_j,
        "power_source": cost.source,
        "power_flags": cost.flags if cost.flags or cost.power_w is not None else None,  # null: no power, as rows
        "power_spread": cost.power_spread,
        "unavailable_reason": cost.unavailable_reason,
        "out": out,
        "trace": trace_path,
        "notes": notes,
    }


def _summary_lines(summary: dict) -> list[str]:
    lines = [
        f"hwprof run: `{shlex.join(summary['command'])}` exited with status {summary['exit_status']} "
        f"after {command_seconds_text(summary['duration_s'])} s on {summary['device']}"
    ]
    if summary["energy_j"] is not None:
        energy = (
            f"  energy {summary['energy_j']:.4g} J, mean power {summary['power_w']:.4g} W ({summary['power_source']})"
        )
        if summary["idle_power_w"] is not None:
            dynamic_j = summary["dynamic_energy_j"]
            energy += (
                f"; idle {summary['idle_power_w']:.4g} W over {summary['idle_s']:.2f} s before it, "
                f"so {abs(dynamic_j):.4g} J {'below' if dynamic_j < 0 else 'above'} idle"
            )
        lines.append(energy)
    else:
        lines.append(f"  energy unavailable: {summary['unavailable_reason']}")
    if summary["power_flags"]:
        lines.append(f"  power flags: {', '.join(summary['power_flags'])}")
    if summary["out"]:
        lines.append(
            f"  row written to {summary['out']}" + (f", samples to {summary['trace']}" if summary["trace"] else "")
        )
    lines += [f"  {note}" for note in summary["notes"]]
    return lines


def command_entries(frame, runs: list[dict]) -> list[dict]:
    """The command rows of a dataset (from `hwprof run`), for `hwprof show`: in the names, units and types
    `hwprof run --json` gives them (joules, the command as its arguments, flags as a list, the power spread
    of the command's two halves), so a script reads both alike; with why power was unavailable from the row's
    run among `runs` (the dataset's provenance; None where neither recorded it)."""
    import pandas as pd

    def value(row, column: str, scale: float = 1.0) -> float | None:
        return None if pd.isna(getattr(row, column)) else float(getattr(row, column)) * scale

    powers = {run.get("run_id"): run.get("power") or {} for run in runs}  # a stop mid-command: its stopped_reason
    reasons = {key: power.get("unavailable_reason") or power.get("stopped_reason") for key, power in powers.items()}
    entries = []
    for row in frame[frame["kind"] == "command"].itertuples(index=False):
        config = _config(row.config)
        flags = row.power_flags if isinstance(row.power_flags, str) else None
        entries.append(
            {
                "command": _argv(config, row.model),
                "exit_status": config.get("exit_status"),
                "device": row.device if isinstance(row.device, str) else None,
                "device_name": row.device_name if isinstance(row.device_name, str) else None,
                "duration_s": row.latency_ms / 1000.0,
                "energy_j": value(row, "energy_mj", 1e-3),
                "power_w": value(row, "power_w"),
                "idle_power_w": value(row, "idle_power_w"),
                "dynamic_energy_j": value(row, "dynamic_energy_mj", 1e-3),
                "power_source": row.power_source if isinstance(row.power_source, str) else None,
                "power_flags": None if flags is None else [flag for flag in flags.split(",") if flag],
                "power_spread": value(row, "power_spread"),
                "unavailable_reason": reasons.get(row.run_id),
            }
        )
    return entries


def _config(text) -> dict:
    """A command row's config as hwprof run wrote it, {} where the row holds none or no JSON object."""
    try:
        config = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def _argv(config: dict, line) -> list[str]:
    """The command's arguments as hwprof run recorded them (config["argv"]); a row without them (written by
    hand) has its command line split as a shell would, or kept whole where it does not split (an open quote)."""
    argv = config.get("argv")
    if isinstance(argv, list) and all(isinstance(arg, str) for arg in argv):
        return argv
    line = line if isinstance(line, str) else ""
    try:
        return shlex.split(line)
    except ValueError:
        return [line]


def command_lines(entries: list[dict]) -> list[str]:
    from hwprof.measuring.command import board_words

    lines = []
    for entry in entries:
        energy = (
            f"{entry['energy_j']:.4g} J at {entry['power_w']:.4g} W"
            + (f" (idle {entry['idle_power_w']:.4g} W)" if entry["idle_power_w"] is not None else "")
            if entry["energy_j"] is not None
            else "energy unavailable"
        )
        flags = f", flags {','.join(entry['power_flags'])}" if entry["power_flags"] else ""
        command = shlex.join(entry["command"])
        lines.append(
            f"command `{command}` on {board_words(entry['device_name'], entry['device'], 'an unrecorded device')}: status {entry['exit_status']}, {command_seconds_text(entry['duration_s'])} s, "
            f"{energy}{flags}"
        )
    return lines
