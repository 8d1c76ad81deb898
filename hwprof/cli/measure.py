"""`hwprof measure` and `hwprof models`."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import click

from hwprof.cli.common import (
    echo_json,
    existing_tegrastats,
    make_console,
    make_progress,
    number,
    refuse_model_empties,
)
from hwprof.drivers import POWER_KINDS
from hwprof.measuring.allocator import DEFAULT_POLICY
from hwprof.measuring.cache import CACHE_MODES
from hwprof.measuring.fit_sweep import DEFAULT_SWEEP_SHARE
from hwprof.measuring.processes import DEFAULT_PROCESSES, work_folder
from hwprof.measuring.runner import Method
from hwprof.measuring.stats import TWO_SPEED_FACTOR, slow_share
from hwprof.progress import duration_text
from hwprof.schema import ALLOCATOR_POLICIES, COMPUTE_DTYPES, CONTENDED_SHARE, DEFAULT_CACHE_MODE

TOP_LAYERS = 10
# a summary shows every network of a run of a few, and of a large dataset its slowest (--json lists every one)
NETWORK_ROWS = 50
LAYER_TABLES = 8  # networks whose slowest layers get a table
TWO_SPEED_NOTE_SHARE = 0.05  # networks with this share of slow-mode samples or more get a note (stats.slow_share)
SPREAD_PROCESSES = 3  # processes whose interval the note advises, as one that covers a rerun's spread


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    default="hwprof.parquet",
    show_default=True,
    help="Dataset path: Parquet, or CSV when it ends in .csv.",
)
@click.option(
    "--batch-size",
    "batch_sizes",
    default="1",
    show_default=True,
    help="Comma-separated batch sizes, each measured, e.g. 1,8,32.",
)
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="cpu, cuda or cuda:N; several, e.g. cuda:0,cuda:1, measure in parallel, one shard each (OUT's stem "
    "+ .cuda0 etc.), merged into OUT.",
)
@click.option(
    "--precision",
    type=float,
    default=Method.precision,
    show_default=True,
    help="Target relative half-width of the 95% interval of each median.",
)
@click.option(
    "--max-time",
    "max_item_s",
    type=float,
    default=Method.max_item_s,
    show_default=True,
    help="Time budget per item (layer configuration or network) in seconds.",
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Intra-op threads. Default: PyTorch's own default, the number of physical cores.",
)
@click.option(
    "--power",
    type=click.Choice(POWER_KINDS),
    default="auto",
    show_default=True,
    help="Power sensor; auto picks the one covering --device.",
)
@click.option(
    "--tegrastats",
    callback=existing_tegrastats,
    default=None,
    help="Path to tegrastats on a Jetson (else $HWPROF_TEGRASTATS, PATH, /usr/bin).",
)
@click.option("--trace", is_flag=True, help="Also write every power sample to OUT's stem + .trace.parquet.")
@click.option("--input-shape", default=None, help="Input shape without the batch, e.g. 3,224,224.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    help="An input as NAME:DTYPE[SHAPE] without the batch (repeatable), e.g. --input input_ids:int64[128] "
    "--input attention_mask:int64[128]; seq in SHAPE is the sequence length. Replaces the model's own inputs.",
)
@click.option(
    "--seq-len",
    "seq_lens",
    default=None,
    help="Comma-separated sequence lengths, each measured, for models with a sequence dimension, e.g. 128,512.",
)
@click.option(
    "--dtype",
    type=click.Choice(COMPUTE_DTYPES),
    default="float32",
    show_default=True,
    help="Float dtype of the weights and float inputs.",
)
@click.option("--channels-last", is_flag=True, help="Lay 4-D weights and inputs out NHWC (channels last).")
@click.option(
    "--compile",
    "compile_network",
    is_flag=True,
    help="Run whole networks through torch.compile (layers stay eager; the compiled column says which rows).",
)
@click.option(
    "--hf-config",
    default=None,
    help="Overrides of hf: models' configs, e.g. num_hidden_layers=4,hidden_size=256.",
)
@click.option("--no-layers", is_flag=True, help="Measure whole networks only.")
@click.option("--resume", is_flag=True, help="Carry on from the rows already in OUT.")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the randomised measurement order [default: drawn, and recorded as the provenance's method.seed].",
)
@click.option(
    "--allocator",
    type=click.Choice(ALLOCATOR_POLICIES),
    default=DEFAULT_POLICY,
    show_default=True,
    help="steady: freed memory stays in the process, so a network's CPU latency does not depend on "
    "what was measured before it (a long-running server's steady state); system: glibc as it is.",
)
@click.option(
    "--processes",
    type=int,
    default=DEFAULT_PROCESSES,
    show_default=True,
    help="Repeat the measurement in N fresh processes, one after the other, and combine them: each row is the "
    "median across processes, its interval widened by their spread so that it covers a rerun. Each process "
    "has the full --max-time per item.",
)
@click.option(
    "--max-other-share",
    type=float,
    default=Method.max_other_share,
    show_default=True,
    help="Discard a burst of samples taken while other processes held more than this share of the CPUs this "
    "process may use (its affinity mask: a taskset or cpuset may leave fewer than the machine has), and wait for "
    "a quiet spell (at most each item's --max-time in all) before sampling again; 1 keeps every burst.",
)
@click.option(
    "--cache",
    type=click.Choice(CACHE_MODES),
    default=DEFAULT_CACHE_MODE,
    show_default=True,
    help="cold: each call of a layer timed alone uses the next of enough copies of its weights and input to "
    "outgrow the last-level cache, as layers inside a network mostly find them; warm: it reuses one set, so "
    "small layers run from the cache and sum to less than their network.",
)
@click.option(
    "--sweep-share",
    type=float,
    default=DEFAULT_SWEEP_SHARE,
    show_default=True,
    help="Share of the run spent, after the networks, on a layer sweep of the ops they use (random sizes of "
    "each, the same in every run), so that a fit on this run predicts networks it has not seen; 0 leaves it out.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout (for CI jobs).")
@click.option("--quiet", is_flag=True, help="No progress output.")
def measure(
    models,
    out,
    batch_sizes,
    device,
    precision,
    max_item_s,
    threads,
    power,
    tegrastats,
    trace,
    input_shape,
    inputs,
    seq_lens,
    dtype,
    channels_last,
    compile_network,
    hf_config,
    no_layers,
    resume,
    seed,
    allocator,
    processes,
    max_other_share,
    cache,
    sweep_share,
    as_json,
    quiet,
):
    """Measure the latency (and power, where a sensor is available) of MODELS.

    MODEL is a name from `hwprof models`, nb201:<arch> in NAS-Bench-201
    notation, path/to/file.py:factory returning a torch.nn.Module (or
    (module, example_inputs)), a zoo model torchvision:NAME, timm:NAME or
    hf:NAME_OR_DIR (random weights, nothing downloaded), or a layer sweep
    sweep:OP[:COUNT[:SEED]] (layers only; OP as `hwprof models` lists them).
    """
    from hwprof.cli.shards import parse_devices

    _check_given(tegrastats, power, input_shape, hf_config, seq_lens)
    devices = parse_devices(device)
    if len(devices) > 1:
        _measure_shards(click.get_current_context(), devices, out, threads, resume, as_json, quiet)
        return
    from hwprof.dataset import read_provenance
    from hwprof.measuring.session import MeasureOptions
    from hwprof.measuring.session import measure as run_measure
    from hwprof.models.inputs import parse_seq_lens
    from hwprof.models.sources import parse_overrides
    from hwprof.models.spec import parse_batch_sizes, parse_shape
    from hwprof.samples import read_samples

    trace_path = _trace_path(out) if trace else None
    options = MeasureOptions(
        batch_sizes=tuple(parse_batch_sizes(batch_sizes)),
        device=device,
        precision=precision,
        max_item_s=max_item_s,
        threads=threads,
        power=power,
        tegrastats=tegrastats,
        layers=not no_layers,
        input_shape=parse_shape(input_shape) if input_shape else None,
        inputs=list(inputs) or None,
        seq_lens=parse_seq_lens(seq_lens),
        dtype=dtype,
        channels_last=channels_last,
        compile=compile_network,
        hf_config=parse_overrides(hf_config) or None,
        seed=seed,
        allocator=allocator,
        trace=trace_path,
        processes=processes,
        max_other_share=max_other_share,
        cache=cache,
        sweep_share=sweep_share,
    )
    # with --json stdout is the JSON document; progress and notes (power unavailable, contention) reach stderr
    progress = make_progress(quiet)
    # the measurement's figures span earlier runs only where there were some: --resume of a new file starts one
    continued = resume and (_holds_rows(out) or _holds_rows(work_folder(out)))
    started = time.perf_counter()
    try:
        frame = run_measure(list(models), options, out=out, resume=resume, argv=sys.argv, progress=progress)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (hwprof.cli.Interrupted)
        progress.stop()
        kept = work_folder(out) if processes > 1 else out
        held = _holds_rows(kept)
        if as_json:  # a CI job reading stdout gets a document that says what happened, not nothing
            echo_json({"out": out, "status": "interrupted", "kept": str(kept) if held else None}, indent=None)
        if held:
            click.echo(
                f"interrupted: the rows measured so far are kept in {kept}; run the same command with --resume to "
                "carry on",
                err=True,
            )
        else:
            if Path(kept).is_dir():
                Path(kept).rmdir()  # the workers' empty folder: the same command runs again without --resume
            click.echo("interrupted before any row was measured: nothing was kept", err=True)
        sys.exit(getattr(interrupt, "exit_code", 130))
    progress.stop()
    runs = read_provenance(out)
    summary = summarize_frame(frame, read_samples(out), runs)
    facts = run_facts(runs[-1] if runs else {}, time.perf_counter() - started)  # a run appends its provenance
    if as_json:
        written = trace_path if trace_path and os.path.exists(trace_path) else None  # none without a sensor
        document = {"out": out, "status": "complete", "trace": written, "rows": len(frame), **facts, **summary}
        echo_json(document)
    elif not quiet:
        print_summary(summary, out, runs, contention_said=True)  # measure warned of contention as it ended
        _echo_facts(facts, summary, continued)


def _check_given(tegrastats, power: str, input_shape, hf_config, seq_lens) -> None:
    """Options that would be ignored are refused: --tegrastats names the Jetson's sensor, which --power none, rapl
    or nvml does not read; an empty --input-shape, --hf-config or --seq-len is a value lost (an unset variable),
    not the option left out."""
    from hwprof.drivers import check_tegrastats_read

    check_tegrastats_read(power, tegrastats)
    refuse_model_empties(input_shape, hf_config, seq_lens)


def run_facts(run: dict, elapsed_s: float | None) -> dict:
    """What a run cost and how it ran, from its provenance, for measure's summary: seconds in all (`elapsed_s`, this
    command's), on the networks, on the default layer sweep (fit_sweep, its share) and waiting for a quiet machine;
    and the intra-op threads it used on the CPUs this process could use, which fit and compare will not mix."""
    sweep = run.get("fit_sweep")
    from hwprof.measuring.session import waited_s

    workers = run["processes"] if isinstance(run.get("processes"), list) else [run]  # --processes: each waited
    return {
        **({} if elapsed_s is None else {"elapsed_s": round(elapsed_s, 1)}),
        # recorded apart from the sweep since it runs without one; a run before that has it in fit_sweep only
        "networks_s": run.get("networks_s", sweep.get("networks_s") if sweep else None),
        "fit_sweep": sweep,
        "waited_s": round(waited_s(workers), 1),
        **{key: run.get(key) for key in ("threads", "usable_cpus", "cpu_count", "cpu_quota", "process_speeds")},
        # the periods in which the cgroup's CPU quota stopped the run, and for how long (None where unreadable)
        **{key: run.get(key) for key in ("cpu_throttled_periods", "cpu_throttled_s")},
        "power": _power_facts(run.get("power") or {}),  # a --processes run's is its last worker's
        # each worker's middle half of its rows' speed factors, which tells speeds_line a row-by-row difference
        "process_row_speeds": [worker.get("row_speeds") for worker in workers] if run.get("processes") else None,
    }


def _power_facts(power: dict) -> dict | None:
    """What the run's power figures are the power of: the sensor's source (the rails or zones summed), the board,
    and each rail left out with why; None where no sensor gave power."""
    sensor = power.get("sensor") or {}
    if not power.get("source"):
        return None
    return {
        "source": power["source"],
        "board": sensor.get("board"),
        "excluded_rails": sensor.get("excluded_rails") or {},
    }


def power_line(facts: dict) -> str | None:
    """Which rails or zones the power columns sum, so that a board's figure is not read as the GPU's or the
    package's alone: the provenance keeps it, the end of the run says it."""
    power = facts.get("power")
    if not power:
        return None
    details = [power["board"]] if power.get("board") else []
    details += [f"{rail} left out: {why}" for rail, why in power["excluded_rails"].items()]
    return f"power: {power['source']}" + (f" ({'; '.join(details)})" if details else "")


SPEEDS_NOTE_SPREAD = 1.05  # the fastest and slowest process this far apart (on the typical row) are said apart


def speeds_line(facts: dict) -> str | None:
    """How far the --processes workers ran apart in speed on the typical row (each one's median over the rows),
    where they did by SPEEDS_NOTE_SPREAD or more: one-process runs on this machine, and comparisons of two runs,
    move by as much whatever their intervals say. Where a worker's rows scattered wider than that (the middle
    half of its rows' factors, process_row_speeds, spans more than the workers' typical factors do), the
    processes differed row by row, not by one change of the machine's speed, and the line says so."""
    speeds = facts.get("process_speeds")
    if not speeds or max(speeds) < SPEEDS_NOTE_SPREAD * min(speeds):
        return None
    typical = (
        f"the {len(speeds)} processes' latencies were {min(speeds):.2f}-{max(speeds):.2f}x their median, typically "
        "(each process's median over the rows all of them measured)"
    )
    carried = "which each row's median across them absorbs and its interval carries"
    spreads = [spread for spread in facts.get("process_row_speeds") or [] if spread]
    widest = max(spreads, key=lambda spread: spread[1] / spread[0], default=None)
    if widest is None:
        return (
            f"{typical}: the processes ran at different speeds, {carried}; a run in one process, or a comparison "
            "of two runs, can move by as much"
        )
    if widest[1] / widest[0] >= max(speeds) / min(speeds):
        return (
            f"{typical}, but the processes differed row by row rather than by one change of speed (the middle half "
            f"of one process's rows ran at {widest[0]:.2f}-{widest[1]:.2f}x each row's median across processes), "
            f"{carried}; a run in one process, or a comparison of two runs, can move by as much on any row"
        )
    return (
        f"{typical}, every row alike: this machine changed speed between processes, {carried}; a run in one "
        "process, or a comparison of two runs, can move by as much"
    )


def timing_line(facts: dict, resumed: bool = False, timed: str = "networks") -> str | None:
    """took 5 min 02 s: networks 3 min 40 s, layer sweep 58 s (20%), waited 12 s for a quiet machine. The
    networks' and the sweep's seconds are the measurement's, over every run of a resumed one, so after a
    resume they are said apart from this command's time. `timed` names what networks_s timed: "layer sweeps"
    for a run of sweep:OP models alone, which times no network."""
    parts = [] if facts.get("networks_s") is None else [f"{timed} {duration_text(facts['networks_s'])}"]
    sweep = facts.get("fit_sweep") or {}
    if sweep.get("sweep_s"):
        parts.append(f"layer sweep {duration_text(sweep['sweep_s'])} ({sweep['share']:.0%})")
    if facts.get("waited_s"):
        parts.append(f"waited {duration_text(facts['waited_s'])} for a quiet machine")
    if "elapsed_s" in facts:
        took = f"took {duration_text(facts['elapsed_s'])}"
        if resumed and parts:
            return f"{took}; the measurement, over all its runs: {', '.join(parts)}"
        return took + (f": {', '.join(parts)}" if parts else "")
    return f"spent: {', '.join(parts)}" if parts else None


def threads_line(facts: dict) -> str | None:
    """The intra-op threads a run used and the CPUs it could use (a taskset, a cpuset or a cgroup quota leave
    fewer than the machine has): fit and compare refuse to mix thread counts, so the user must know it. A quota
    below the threads limited the run; one below a CPU stops even one thread for part of every period, so no
    thread count times the model alone there. Where the quota stopped the run, how often and how long is said."""
    threads, usable, count, quota = (facts.get(key) for key in ("threads", "usable_cpus", "cpu_count", "cpu_quota"))
    if threads is None:
        return None
    text = f"{threads} intra-op thread{'s' * (threads != 1)}"
    if usable is not None:
        of = f" of the machine's {count} CPUs" if count and count != usable else f" CPU{'s' * (usable != 1)}"
        text += f"; this process may use {usable}{of}"
    if quota is not None:
        text += f", under a cgroup quota of {quota:g} CPU{'s' * (quota != 1)}"
        periods, throttled_s = facts.get("cpu_throttled_periods"), facts.get("cpu_throttled_s")
        stopped = (
            f"it stopped the run {periods} time{'s' * (periods != 1)}, {duration_text(throttled_s)} in all"
            if periods
            else ""
        )
        if quota < 1:
            text += (
                " (the run was limited by the container's CPU quota, less than one thread needs: its latencies "
                f"include the time the quota stopped it{'; ' + stopped if stopped else ''}; give the container 1 "
                "CPU or more to time the model alone)"
            )
        elif threads > quota:
            text += (
                f" (the run was limited by the container's CPU quota: threads beyond it wait their turn"
                f"{'; ' + stopped if stopped else ''}; --threads {int(quota)} times the model alone)"
            )
        elif stopped:
            text += f" ({stopped})"
    return text


def _measure_shards(context, devices: list[str], out: str, threads, resume: bool, as_json: bool, quiet: bool) -> None:
    """One `hwprof measure` per device at once, each into its own shard; merged into OUT when all succeeded."""
    from hwprof.cli import shards
    from hwprof.dataset import merge_datasets, read_dataset, read_provenance
    from hwprof.errors import HwprofError
    from hwprof.files import check_output
    from hwprof.samples import read_samples

    started = time.perf_counter()
    check_output(out, exists_ok=resume)
    shards.check_devices(devices)
    args = shards.command_args(context)
    per_shard = shards.shard_threads(threads, len(devices))
    paths = {device: shards.shard_path(out, device) for device in devices}
    jobs = [(device, shards.shard_argv(args, device, paths[device], per_shard)) for device in devices]
    try:
        codes = shards.run_shards(jobs, echo=(lambda text: None) if quiet or as_json else _echo_err)
    except KeyboardInterrupt as interrupt:
        click.echo(
            f"interrupted: each shard keeps its rows ({', '.join(paths.values())}); run the same command with "
            "--resume to carry on",
            err=True,
        )
        sys.exit(getattr(interrupt, "exit_code", 130))
    failed = [f"{device} (exit status {code})" for device, code in codes.items() if code]
    if failed:
        raise HwprofError(
            f"the shard on {', '.join(failed)} failed (its message is above); every shard keeps its rows in "
            f"{', '.join(paths.values())}; fix the cause and run the same command with --resume"
        )
    merge_datasets(list(paths.values()), out, force=True)
    frame = read_dataset(out)
    samples = read_samples(out)
    runs = read_provenance(out)
    runs_of = {device: [run for run in runs if run.get("device") == device] for device in devices}
    per_device = {
        device: {
            **run_facts(runs_of[device][-1] if runs_of[device] else {}, None),
            **summarize_frame(frame[frame["device"] == device], samples, runs_of[device]),
        }
        for device in devices
    }
    elapsed_s = time.perf_counter() - started
    if as_json:
        whole = {"out": out, "shards": paths, "rows": len(frame), "elapsed_s": round(elapsed_s, 1)}
        echo_json({**whole, "devices": per_device})
    elif not quiet:
        for device, summary in per_device.items():
            click.echo(f"{device}:")
            print_summary(summary, paths[device], runs_of[device])
            _echo_facts(summary, summary)
        click.echo(f"merged: {out} (took {duration_text(elapsed_s)})")


def _echo_facts(facts: dict, summary: dict, resumed: bool = False) -> None:
    """The threads and the time a run took, each line where there is something to say. A run of sweep:OP models
    alone timed no network: the seconds recorded as networks_s are its sweeps'."""
    timed = "layer sweeps" if summary["sweeps"] and not summary["networks"] else "networks"
    for line in (threads_line(facts), power_line(facts), timing_line(facts, resumed, timed), speeds_line(facts)):
        if line:
            click.echo(line)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


@click.command()
@click.option(
    "--source",
    default=None,
    help="List what one model source offers: builtin, torchvision, timm or hf (installed ones only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models(source, as_json):
    """List the sample models and their default input shapes, and the model sources installed."""
    from hwprof.models.sources import SOURCES
    from hwprof.sample_models import MODELS

    if source is not None and source != "builtin":
        _list_source(source, as_json)
        return

    entries = [
        {
            "name": name,
            "source": "builtin",
            "input_shape": list(entry.input_shape),
            "family": entry.family,
            "description": entry.description,
        }
        for name, entry in sorted(MODELS.items())
    ]
    if as_json:
        echo_json(entries + _sweep_entries())  # names measure takes; a zoo's: `--source PREFIX --json`
        return
    from rich.table import Table

    table = Table("name", "input shape", "family", "description")
    for entry in entries:
        table.add_row(entry["name"], "x".join(map(str, entry["input_shape"])), entry["family"], entry["description"])
    console = make_console()  # '.[zoo]' and sweep:OP[:COUNT] are text, not style tags
    console.print(table)
    from hwprof.sample_models.sweep import SAMPLERS

    console.print("Also: nb201:<arch> (NAS-Bench-201 cell, input 3x32x32) and path/to/file.py:factory.")
    console.print(f"Layer sweeps (layers only, no network): sweep:OP[:COUNT[:SEED]] for OP in {', '.join(SAMPLERS)}.")
    if source == "builtin":
        return
    for entry in SOURCES.values():  # a package that fails to load is said so, not listed as installed
        state, advice = entry.state()
        if state == "installed":
            state = f"installed; `hwprof models --source {entry.prefix}` lists them"
        console.print(f"{entry.prefix}:NAME - {entry.about} ({state}{': ' + advice if advice else ''})")


def _sweep_entries() -> list[dict]:
    """The layer sweeps the text listing names, as entries of the built-in models' keys: sweep:OP is a name measure
    takes."""
    from hwprof.models.spec import SWEEP_FAMILY
    from hwprof.sample_models.sweep import PREFIX, SAMPLERS

    about = "layer sweep: configurations of one op type, layers only, no network; {}:COUNT:SEED sets both"
    return [
        {
            "name": f"{PREFIX}{op}",
            "source": "sweep",
            "input_shape": None,
            "family": SWEEP_FAMILY,
            "description": about.format(f"{PREFIX}{op}"),
        }
        for op in SAMPLERS
    ]


def _list_source(prefix: str, as_json: bool) -> None:
    from hwprof.errors import HwprofError
    from hwprof.models.sources import SOURCES

    if prefix not in SOURCES:
        raise HwprofError(f"unknown model source {prefix!r}: choose from builtin, {', '.join(SOURCES)}")
    entry = SOURCES[prefix]
    entry.require(f"--source {prefix}")
    names = entry.names()
    if as_json:
        # objects with the built-in listing's keys, null where a zoo's name tells none: one parser reads both
        unknown = {"input_shape": None, "family": None, "description": None}
        listed = [{"name": f"{prefix}:{name}", "source": prefix, **unknown} for name in names]
        echo_json(listed)
        return
    click.echo(f"{len(names)} models from {prefix} ({entry.about}):")
    click.echo(", ".join(names))


def _holds_rows(kept) -> bool:
    """Whether an interrupted run left anything to resume: its dataset or journal, or its workers' files."""
    from hwprof.dataset import journal_path

    kept = Path(kept)
    if kept.is_dir():
        return any(kept.iterdir())
    return kept.exists() or journal_path(kept).exists()


def _trace_path(out: str) -> str:
    from hwprof.traces import trace_path_for

    return trace_path_for(out)


POWER_SUMMARY = ("power_w", "idle_power_w", "energy_mj", "dynamic_energy_mj")
# A GPU network whose latency grows less than this from one batch size to one at least HOST_BOUND_BATCHES
# times larger spends the smaller batch waiting for the host to launch its kernels (on an H200, eager
# ResNet-50 took 4.15 ms at batch 1 and 4.17 ms at batch 32)
HOST_BOUND_GROWTH = 1.5
HOST_BOUND_BATCHES = 4


def _measured(value) -> float | None:
    """A float, or None where nothing was measured (null, NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def summarize_frame(frame, samples=None, runs=()) -> dict:
    """Networks against the sum of their layers, and the slowest layers, per (model, batch size, sequence length,
    and in a merged dataset board, precision, layout, thread count, allocator policy and cache mode; reruns give
    the median of the runs' figures, the network's and each layer's, as fit and compare combine them); with the
    raw samples (`hwprof.samples.read_samples`), the share of each network's samples in a slow mode; with the runs'
    provenance (`hwprof.dataset.read_provenance`), why power was unavailable, each reason once, so that a null
    power figure never goes unexplained. Every figure is computed for all networks at once, not by a frame per
    network, so thousands of networks take seconds."""
    from hwprof.dataset import contended_measurements, latency_interval_unbounded, run_settings
    from hwprof.schema import SWEEP_PREFIX

    network_samples = _network_samples(samples)
    frame = frame[frame["model"].notna() & frame["batch_size"].notna()]  # rows of models (not hwprof run's)
    split = run_settings(frame, runs) if "run_id" in frame else {}
    if split:  # recorded per run only, not in the rows (the rows' cache labels are replaced by their run's mode)
        frame = frame.assign(**{column: frame["run_id"].map(values) for column, values in split.items()})
    # a merged dataset's boards, precisions, thread counts, allocator policies and cache modes are summarised
    # apart, each network once (not its runs added up)
    apart = [
        c
        for c in ("device_name", "dtype", "channels_last", "compiled", *split)
        if c in frame and frame[c].nunique(dropna=False) > 1
    ]
    seq_lens = frame["seq_len"] if "seq_len" in frame else None
    keys = [*apart, "model", "batch_size"] + (["seq_len"] if seq_lens is not None and seq_lens.notna().any() else [])
    work = frame.assign(
        _group=frame.groupby(keys, sort=True, dropna=False).ngroup(),  # a null seq_len is a group too
        _unbounded=latency_interval_unbounded(frame),
    )
    counts = _group_counts(work)
    network_rows = _network_figures(work, network_samples)
    layers, layer_sums = _group_layers(work)
    top_layers = _top_layers(layers)
    firsts = work.drop_duplicates("_group").sort_values("_group")
    networks, sweeps = [], []
    for group, key in zip(firsts["_group"], firsts[keys].itertuples(index=False, name=None)):
        named = dict(zip(keys, key))
        sweep = str(named["model"]).startswith(SWEEP_PREFIX)  # layers only: no network to show
        layer_count, layers_ms = layer_sums.get(group, (0, None))
        entry = {
            "model": named["model"],
            "batch_size": int(named["batch_size"]),
            "seq_len": int(named["seq_len"]) if _measured(named.get("seq_len")) is not None else None,
            **{column: _plain(named[column]) for column in apart},
            **({"threads": _whole(named["threads"])} if "threads" in apart else {}),
            **({} if sweep else {"network_runs": counts[group]["network_runs"]}),  # several: their figures' median
            "layers": layer_count,
            "sum_of_layers_ms": layers_ms,
            **{column: counts[group][column] for column in GROUP_COUNTS[1:]},
        }
        if not sweep:
            entry.update(network_rows.get(group, NO_NETWORK))
        entry["top_layers"] = [_layer_summary(layer, bool(layer["_unbounded"])) for layer in top_layers.get(group, [])]
        (sweeps if sweep else networks).append(entry)
    reasons = [(run.get("power") or {}).get("unavailable_reason") for run in runs]
    reasons += [_stopped_note(run.get("power") or {}) for run in runs]
    return {
        "execution": execution_words(frame.drop(columns=apart)),
        "networks": networks,
        "sweeps": sweeps,  # layer sweeps, the default one's rounds and sweep:OP models, apart from the networks
        "host_bound": _host_bound(frame),
        # counted as measure counts them as it ends, so show says the same of the same dataset
        "contended_measurements": contended_measurements(frame),
        "power_unavailable": list(dict.fromkeys(reason for reason in reasons if reason)),
    }


GROUP_COUNTS = ("network_runs", "unstable_rows", "contended_rows", "discarded_bursts", "gpu_shared_rows")


def _group_counts(work) -> dict[int, dict[str, int]]:
    """GROUP_COUNTS of each group of summarize_frame (column _group): its network rows (one per run); of its layers
    and network, the unstable ones, those measured while other processes took the CPU and those measured while
    other processes had a context on the GPU, each once however many runs measured it, as the summary shows it
    once; and the bursts discarded for contention while it was measured (a configuration shared by layers of a
    run once)."""
    import pandas as pd

    if "discarded_bursts" in work:
        once = [column for column in ("_group", "run_id", "config_id") if column in work]
        measured = work.drop_duplicates(once) if "config_id" in work else work
        bursts = measured["discarded_bursts"].fillna(0).astype(int).groupby(measured["_group"]).sum()
    else:
        bursts = 0
    gpu = work["gpu_other_processes"].astype("Float64").fillna(0) > 0 if "gpu_other_processes" in work else False
    flags = pd.DataFrame(
        {
            "unstable_rows": ~work["stable"].astype(bool),
            "contended_rows": work["other_cpu_share"].astype(float) > CONTENDED_SHARE,
            "gpu_shared_rows": gpu,
        },
        index=work.index,
    ).astype(int)
    item = work["layer_index"].where(work["kind"] == "layer", -1).fillna(-1)  # -1: the network
    counts = flags.groupby([work["_group"], item]).max().groupby(level=0).sum()
    counts["network_runs"] = (work["kind"] == "network").astype(int).groupby(work["_group"]).sum()
    counts["discarded_bursts"] = bursts
    return {group: {column: int(row[column]) for column in GROUP_COUNTS} for group, row in counts.iterrows()}


NETWORK_MEDIANS = ("latency_ms", "latency_ms_p90", "latency_ms_p99", *POWER_SUMMARY)


# the network figures of a group without a network row (its network failed, or a run with layers only)
NO_NETWORK = {
    **dict.fromkeys((*NETWORK_MEDIANS, "latency_ms_ci_low", "latency_ms_ci_high", "samples", "power_source")),
    **dict.fromkeys(("power_flags", "slow_sample_share", "processes", "device")),
}


def _network_figures(work, network_samples: dict) -> dict[int, dict]:
    """Each group's network figures (_run_figures): of one run its row's, of several (merged reruns) the runs'."""
    rows = work[work["kind"] == "network"]
    several = rows["_group"].duplicated(keep=False)
    figures = {row["_group"]: _run_figures([row], network_samples) for row in rows[~several].to_dict("records")}
    for group, members in rows[several].groupby("_group"):
        figures[group] = _run_figures(members.to_dict("records"), network_samples)
    return figures


def _run_figures(records: list[dict], network_samples: dict) -> dict:
    """The figures of a network measured in the runs of `records`: of several, the median of each figure over
    the runs, as fit and compare combine them, with no 95% interval (no one row's holds the runs' spread), the
    sample count too (as README says of every figure: the median of the runs' p90 / p99 rests on about as many),
    every run's power flags as a list, as `run` and compare give
    them ([] where power was measured and nothing flagged, None where none was), and the median of the runs'
    slow-sample shares (stats.slow_share of each run's own samples: pooled, two runs' speeds would read as two
    modes)."""
    from hwprof.samples import row_key

    first, several = records[0], len(records) > 1
    bounded = not several and not first["_unbounded"]
    counts = [int(record["samples"]) for record in records if _measured(record.get("samples")) is not None]
    shares = [
        slow_share(seconds)
        for seconds in (network_samples.get((record.get("run_id"), row_key(record))) for record in records)
        if seconds
    ]
    flags = [record["power_flags"] for record in records if isinstance(record.get("power_flags"), str)]
    sources = [record["power_source"] for record in records if isinstance(record.get("power_source"), str)]
    medians = {}
    for column in NETWORK_MEDIANS:
        values = [value for value in (_measured(record.get(column)) for record in records) if value is not None]
        medians[column] = statistics.median(values) if values else None
    return {
        **medians,
        "latency_ms_ci_low": float(first["latency_ms_ci_low"]) if bounded else None,
        "latency_ms_ci_high": float(first["latency_ms_ci_high"]) if bounded else None,
        "samples": round(statistics.median(counts)) if counts else None,
        "power_source": sources[0] if sources else None,
        "power_flags": sorted({f for text in flags for f in text.split(",") if f}) if flags else None,
        "slow_sample_share": statistics.median(shares) if shares else None,
        "processes": max(int(_measured(record.get("processes")) or 1) for record in records),
        "device": str(first["device"]) if isinstance(first.get("device"), str) else None,
    }


LAYER_COLUMNS = ("layer_index", "layer_name", "op", "latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "samples")


def _group_layers(work):
    """The layer rows of all groups, one row per layer of each (_run_layers where a group holds reruns), and each
    group's (layer count, summed latency)."""
    import pandas as pd

    columns = [column for column in (*LAYER_COLUMNS, "run_id", "_group", "_unbounded") if column in work]
    layers = work.loc[work["kind"] == "layer", columns]
    rerun = set(layers.loc[layers.duplicated(["_group", "layer_index"]), "_group"])
    if rerun:
        apart = layers["_group"].isin(rerun)
        layers = pd.concat(
            [
                layers[~apart],
                *(_run_layers(rows) for _, rows in layers[apart].groupby("_group")),
            ]
        )
    by_group = layers.groupby("_group")["latency_ms"]
    sizes, totals = by_group.size(), by_group.sum()
    return layers, {group: (int(sizes[group]), float(totals[group])) for group in sizes.index}


def _top_layers(layers) -> dict[int, list[dict]]:
    """Each group's TOP_LAYERS slowest layers, slowest first (of equal ones, the first)."""
    timed = layers[layers["latency_ms"].notna()]
    ranked = timed.sort_values("latency_ms", ascending=False, kind="stable").sort_values("_group", kind="stable")
    top: dict[int, list[dict]] = {}
    for row in ranked.groupby("_group").head(TOP_LAYERS).to_dict("records"):
        top.setdefault(row["_group"], []).append(row)
    return top


def _stopped_note(power: dict) -> str | None:
    """A sensor that stopped mid-run, as the run's provenance recorded it: why, and from which row."""
    if not power.get("stopped_reason"):
        return None
    where = (
        f"in measuring process {power['stopped_in_process']}, after {power.get('stopped_after_rows')} of its rows"
        if power.get("stopped_in_process")
        else f"after {power.get('stopped_after_rows')} rows of the dataset"
    )
    return f"{power['stopped_reason']} ({where}; the rows flagged sensor_stopped have no power)"


def execution_words(frame) -> list[str]:
    """How every row of `frame` ran where that is not float32, eager and contiguous (bfloat16, compiled,
    channels-last): a dataset of one such run says so once, as a mixed one does per network."""
    shared = {}
    for column in ("dtype", "compiled", "channels_last"):
        values = set(frame[column].dropna()) if column in frame else set()
        shared[column] = values.pop() if len(values) == 1 else None
    return how_run(shared["dtype"], shared["compiled"], shared["channels_last"])


def how_run(dtype, compiled, channels_last) -> list[str]:
    """A run's or a dataset's execution in words, each only where it is not the default: its dtype where not
    float32, "compiled", "channels-last"."""
    return [
        *([str(dtype)] if dtype and dtype != "float32" else []),
        *(["compiled"] if compiled else []),
        *(["channels-last"] if channels_last else []),
    ]


def _layer_summary(row, unbounded: bool) -> dict:
    """One of the slowest layers with its 95% interval: none where its median is from too few samples, nor
    where it is the median of several runs' medians (whose spread no one row's interval holds)."""
    runs = int(row.get("layer_runs", 1)) if _measured(row.get("layer_runs")) is not None else 1
    bounded = not unbounded and runs == 1 and _measured(row.get("latency_ms_ci_low")) is not None
    return {
        "layer_index": int(row["layer_index"]),
        "layer_name": row["layer_name"],
        "op": row["op"],
        "latency_ms": float(row["latency_ms"]),
        "latency_ms_ci_low": float(row["latency_ms_ci_low"]) if bounded else None,
        "latency_ms_ci_high": float(row["latency_ms_ci_high"]) if bounded else None,
        "samples": None if _measured(row.get("samples")) is None else int(row["samples"]),
        **({"runs": runs} if runs > 1 else {}),
    }


def _network_label(entry: dict) -> str:
    """The model, and whatever tells its row apart in a merged dataset: board, precision, layout, thread count,
    allocator policy, cache mode, runs."""
    parts = [entry["model"] + (f" seq {entry['seq_len']}" if entry.get("seq_len") else "")]
    if entry.get("device_name"):
        parts.append(f"on {entry['device_name']}")
    if entry.get("dtype"):
        parts.append(str(entry["dtype"]))
    if entry.get("channels_last"):
        parts.append("channels-last")
    if "compiled" in entry:  # a dataset of compiled and eager runs: each network says which it is
        parts.append("compiled" if entry["compiled"] else "eager")
    if entry.get("threads"):
        parts.append(f"{entry['threads']} thread(s)")
    parts += [f"{setting} {entry[setting]}" for setting in ("allocator", "cache") if entry.get(setting)]
    if entry.get("network_runs", 1) > 1:
        parts.append(f"(median of {entry['network_runs']} runs)")
    return " ".join(parts)


def _run_layers(layer_rows):
    """One row per layer of a network measured in several runs (merged reruns), each layer's median over the runs,
    so that a layer sum is one network's, not the runs' added up, and is of the same runs as the network's median."""
    by_layer = layer_rows.groupby("layer_index")["latency_ms"]
    medians = layer_rows.assign(latency_ms=by_layer.transform("median"), layer_runs=by_layer.transform("size"))
    return medians.drop_duplicates("layer_index")


def _whole(value) -> int | None:
    """A thread count as a whole number; None where its run recorded none."""
    return None if _measured(value) is None else int(value)


def _plain(value):
    """A group key as JSON takes it: numpy scalars as Python ones, nulls as None."""
    if _measured(value) is None and not isinstance(value, str):
        return None
    return value.item() if hasattr(value, "item") else value


def _network_samples(samples) -> dict[tuple[str, str], list[float]]:
    """(run_id, row key) -> seconds per call, for the network rows of a samples sidecar."""
    if samples is None or not len(samples):
        return {}
    networks = samples[samples["key"].str.startswith("network:")]
    return {key: group["seconds_per_call"].tolist() for key, group in networks.groupby(["run_id", "key"])}


def two_speed_lines(entries: list[dict], one_thread: bool = False, throttled: bool = False) -> list[str]:
    """A note naming the CPU networks whose samples fell in two modes: their medians are one run's mix. (Its
    advice is about CPU threads; a GPU's two speeds would be its clocks, which this note does not judge.)
    `one_thread`: every run of the dataset used one thread, so fewer threads is no remedy; networks measured in
    SPREAD_PROCESSES processes or more are not told to measure in them. `throttled`: a run recorded the cgroup's
    CPU quota stopping it (cpu_throttled_periods), which is then the slow mode, not the machine."""
    found = [
        e
        for e in entries
        if (e.get("slow_sample_share") or 0) >= TWO_SPEED_NOTE_SHARE and (e.get("device") or "cpu") == "cpu"
    ]
    if not found:
        return []
    named = ", ".join(f"{_network_label(e)} batch {e['batch_size']} ({e['slow_sample_share']:.0%})" for e in found)
    head = (
        f"note: {len(found)} network(s) ran at two speeds, a share of their samples taking {TWO_SPEED_FACTOR}x "
        f"their fastest tenth or more: {named}."
    )
    spread = f"--processes {SPREAD_PROCESSES} for an interval that covers the spread"
    in_processes = min(e.get("processes") or 1 for e in found) >= SPREAD_PROCESSES
    if one_thread:
        slowing = (
            "the container's CPU quota stopping the process for part of its periods (the run recorded its stops)"
            if throttled
            else "the machine slowing the core for a stretch (a VM's host, or power management)"
        )
        cause = f"{head} At one thread this is {slowing}, so a rerun may land elsewhere"
        return [cause if in_processes else f"{cause}: measure with {spread}"]
    cause = (
        f"{head} Multi-threaded CPU runs on some VMs switch between a fast and a slow mode for seconds to minutes, "
        "so a rerun may land elsewhere: measure with --threads 1 for timings a rerun reproduces"
    )
    return [cause if in_processes else f"{cause}, or with {spread}"]


def host_bound_lines(entries: list[dict]) -> list[str]:
    """One note per device and pair of batch sizes, naming the networks the host held back."""
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        groups.setdefault((entry["device"], entry["small_batch"], entry["large_batch"]), []).append(entry)
    lines = []
    for (device, small, large), found in groups.items():
        named = ", ".join(
            f"{e['model']}{' seq ' + str(e['seq_len']) if e['seq_len'] else ''} {e['latency_growth']:.2f}x"
            for e in found
        )
        lines.append(
            f"note: on {device}, {len(found)} network(s) take under {HOST_BOUND_GROWTH}x their batch-{small} time at "
            f"batch {large} ({named}): at batch {small} the GPU mostly waits for the host to launch its kernels, so "
            "those latencies measure the host; --compile (fewer launches) or larger batches measure the GPU"
        )
    return lines


def _host_bound(frame) -> list[dict]:
    """GPU networks whose latency barely grows with the batch: at the small batch the GPU waits on the host."""
    if "device" not in frame:
        return []
    rows = frame[(frame["kind"] == "network") & frame["device"].astype(str).str.startswith("cuda")]
    found = []
    keys = ["model"] + (["seq_len"] if "seq_len" in rows and rows["seq_len"].notna().any() else [])
    for key, group in rows.groupby(keys, sort=True, dropna=False):
        group = group.sort_values("batch_size")
        small, large = group.iloc[0], group.iloc[-1]
        if large["batch_size"] < HOST_BOUND_BATCHES * small["batch_size"] or not small["latency_ms"] > 0:
            continue
        growth = float(large["latency_ms"]) / float(small["latency_ms"])
        if growth < HOST_BOUND_GROWTH:
            found.append(
                {
                    "model": key[0] if isinstance(key, tuple) else key,
                    "seq_len": _measured(small.get("seq_len")),
                    "device": str(small["device"]),
                    "small_batch": int(small["batch_size"]),
                    "large_batch": int(large["batch_size"]),
                    "latency_growth": growth,
                }
            )
    return found


TAIL_SAMPLES = 100  # fewer samples than this leave p99 at (or next to) the slowest one observed


def _tail_cell(tail: tuple, samples: int | None, processes: int | None = None) -> str:
    """p90 / p99, with the sample count behind them where it is too small for p99 to be more than the slowest;
    over several processes they come from every process's samples pooled, each process weighing alike as in
    the row's median of the processes' medians: said so."""
    if None in tail:
        return "-"
    text = f"{tail[0]:.3f} / {tail[1]:.3f}"
    counted = f"{samples} sample{'s' * (samples != 1)}"
    if processes is not None and processes > 1:
        return f"{text} ({counted} of {processes} processes, pooled)"
    return f"{text} ({counted})" if samples is not None and samples < TAIL_SAMPLES else text


def _interval_cell(entry: dict, digits: int = 3) -> str:
    """A network's or layer's 95% CI, or why it has none: a median from too few samples is not bounded, and a
    median of several runs' medians has no one interval."""
    if entry["latency_ms_ci_low"] is None:
        runs = entry.get("runs", entry.get("network_runs", 1))  # a layer's runs, or a network's
        if runs > 1:
            return f"- (median of {runs} runs)"
        return (
            "-"
            if entry.get("samples") is None
            else f"unbounded ({entry['samples']} sample{'s' * (entry['samples'] != 1)})"
        )
    # written as compare writes its intervals: a narrow column wraps it at the spaces, never inside a number
    return f"{entry['latency_ms_ci_low']:.{digits}f} .. {entry['latency_ms_ci_high']:.{digits}f}"


def _slowest(entries: list[dict], count: int) -> set[int]:
    """The ids of the `count` slowest of summarize_frame's network entries (by network latency, else by the sum
    of their layers): the ones a summary of a large dataset shows, in their dataset order."""
    ranked = sorted(entries, key=lambda entry: -(entry.get("latency_ms") or entry["sum_of_layers_ms"] or 0.0))
    return {id(entry) for entry in ranked[:count]}


def print_summary(summary: dict, out: str, runs: list[dict], contention_said: bool = False) -> None:
    """The end-of-run summary of `out`; `runs` is its provenance (hwprof.dataset.read_provenance).
    `contention_said`: the run already warned of rows timed while others held the CPU."""
    from rich.table import Table

    from hwprof.dataset import contention_warning

    console = make_console()
    with_layers = [entry for entry in summary["networks"] if entry["top_layers"]]
    shown_layers = _slowest(with_layers, LAYER_TABLES)
    for entry in with_layers:
        if id(entry) in shown_layers:
            table = Table(
                "#",
                "layer",
                "op",
                "latency ms",
                "95% CI ms",
                title=f"{_network_label(entry)} batch {entry['batch_size']}: slowest layers",
            )
            for layer in entry["top_layers"]:
                table.add_row(
                    str(layer["layer_index"]),
                    layer["layer_name"],
                    layer["op"],
                    f"{layer['latency_ms']:.4f}",
                    _interval_cell(layer, digits=4),
                )
            console.print(table)
    if len(shown_layers) < len(with_layers):
        console.print(
            f"slowest layers of the other {len(with_layers) - len(shown_layers):,} networks (the "
            f"{len(shown_layers)} slowest are above): --json lists them"
        )
    if summary["networks"]:
        _print_networks(console, summary)
    elif not summary["sweeps"]:
        console.print("no networks or layer sweeps measured")
    if summary["sweeps"]:
        sweeps = summary["sweeps"]
        unstable = sum(entry["unstable_rows"] for entry in sweeps)
        apart = " (not networks, so not in the table)" if summary["networks"] else ""
        console.print(
            f"layer sweeps: {sum(entry['layers'] for entry in sweeps):,} layer configurations in {len(sweeps):,} "
            f"sweep group(s), {unstable:,} unstable{apart}: --json lists them"
        )
    if summary["contended_measurements"] and not contention_said:
        console.print(contention_warning(summary["contended_measurements"]))
    shared = sum(entry.get("gpu_shared_rows", 0) for entry in summary["networks"] + summary["sweeps"])
    if shared:
        console.print(
            f"warning: other processes used the GPU while {shared} row(s) were measured (column "
            "gpu_other_processes); their latency and energy include others' work: measure on a GPU of its own"
        )
    # runs of `hwprof run` record no threads: they timed a command, not a network
    one_thread = {run.get("threads") for run in runs} - {None} == {1}
    throttled = any(run.get("cpu_throttled_periods") for run in runs)
    for line in two_speed_lines(summary["networks"], one_thread, throttled):
        console.print(line)
    for line in host_bound_lines(summary.get("host_bound", [])):
        console.print(line)
    console.print(f"dataset: {out}")


def _print_networks(console, summary: dict) -> None:
    """print_summary's table of the networks (the NETWORK_ROWS slowest), with power where a sensor was used."""
    from rich.table import Table

    shown = _slowest(summary["networks"], NETWORK_ROWS)
    table = Table(
        "model",  # a long name (a zoo model's) wraps, never cut, as every cell (common.uncut)
        "batch",
        "network ms",
        "95% CI ms",
        "p90 / p99 ms",
        "sum of layers ms",
        "network / sum",
        "unstable rows",
        title=", ".join(["networks", *summary.get("execution", [])]),
    )
    with_power = any(entry.get("energy_mj") is not None for entry in summary["networks"])
    if with_power:  # a sensor was used: its figures beside the latency, and what it flagged
        for header in ("power W", "idle W", "energy mJ", "dynamic mJ"):
            table.add_column(header)
        table.add_column("power flags")  # one flag a line
    for entry in summary["networks"]:
        if id(entry) not in shown:
            continue
        network_ms = entry.get("latency_ms")
        layers_ms = entry["sum_of_layers_ms"]
        ratio = f"{network_ms / layers_ms:.2f}" if network_ms and layers_ms else "-"
        tail = (entry.get("latency_ms_p90"), entry.get("latency_ms_p99"))
        cells = [
            _network_label(entry),
            str(entry["batch_size"]),
            f"{network_ms:.3f}" if network_ms else "-",
            _interval_cell(entry) if network_ms else "-",
            _tail_cell(tail, entry.get("samples"), entry.get("processes")),
            f"{layers_ms:.3f}" if layers_ms else "-",
            ratio,
            str(entry["unstable_rows"]),
        ]
        if with_power:
            cells += [number(entry.get(column)) for column in POWER_SUMMARY] + [
                "\n".join(entry["power_flags"] or []) or "-"
            ]
        table.add_row(*cells)
    console.print(table)
    if len(shown) < len(summary["networks"]):
        console.print(
            f"… {len(summary['networks']) - len(shown):,} more networks (the {len(shown)} slowest are above): "
            "--json lists every one"
        )
