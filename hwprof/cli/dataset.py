"""`hwprof merge`: one dataset from the shards of many runs or boards."""

from __future__ import annotations

from pathlib import Path

import click

from hwprof.cli.common import echo_json, printable
from hwprof.measuring.allocator import DEFAULT_POLICY
from hwprof.schema import DEFAULT_CACHE_MODE


@click.command()
@click.argument("shards", nargs=-1, required=True, metavar="SHARD...", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(),  # the text as given: click's Path type would drop a trailing separator, naming a folder
    help="Merged dataset to write: Parquet, or CSV when it ends in .csv.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it already exists.")
@click.option(
    "--skip-unfinished",
    is_flag=True,
    help="Leave out, with a warning naming them, shards whose run did not finish or is still writing, "
    "and merge the others (a fleet job after one board was killed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON, for CI jobs.")
def merge(shards: tuple[Path, ...], out: str, force: bool, skip_unfinished: bool, as_json: bool) -> None:
    """Combine datasets (SHARD...) from several runs or boards into one.

    This is the step after CI on a fleet of boards: each board's job measures
    and uploads its own shard,

    \b
        hwprof measure resnet18 mobilenet_v2 --out shard-$BOARD.parquet

    and one last job collects the shards and runs

    \b
        hwprof merge shard-*.parquet --out fleet.parquet

    Every shard must be an hwprof dataset of the same schema version with the
    same column types. Each run's provenance is kept (the union of all runs,
    keyed by run_id) and every row keeps the run_id that links it to its run.
    The shards' raw samples (SHARD.samples.parquet, which shard-*.parquet
    also matches) go to OUT.samples.parquet, for `hwprof compare`, and
    their power traces (SHARD's stem + .trace.parquet, from --trace, also
    matched) to OUT's stem + .trace.parquet, for `hwprof report` and
    `hwprof plot-trace`.
    The output is written atomically and may not be one of the inputs.

    A shard whose run did not finish (killed: its .partial.jsonl journal is
    beside it) is refused, since its journal may hold rows its table lacks;
    resume that run first, or pass --skip-unfinished to merge the others and
    leave it out. A shard that is still being written is never merged.
    """
    from hwprof.dataset import merge_datasets

    summary = merge_datasets(list(shards), out, force=force, skip_unfinished=skip_unfinished)
    if as_json:
        echo_json(summary)
        return
    for warning in summary["warnings"]:
        click.echo(printable(f"warning: {warning}", newlines=False), err=True)
    run_count = len({run["run_id"] for run in summary["runs"]})
    left_out = f"; {len(summary['skipped'])} unfinished shard(s) left out" if summary["skipped"] else ""
    trace = f"; power traces to {summary['trace']}" if summary["trace"] else ""
    click.echo(
        f"Merged {len(summary['shards'])} shard(s) into {summary['out']}: "
        f"{summary['rows']} rows from {run_count} run(s){left_out}{trace}."
    )
    header = ("device_name", "run_id", "host", "status", "rows")
    lines = [
        [printable(str(run[key] if run[key] is not None else "-"), newlines=False) for key in header]
        for run in summary["runs"]
    ]
    for line in lines:
        line[1] = line[1][:12]  # a run_id prefix is enough to tell runs apart on screen
    widths = [max(len(cells[i]) for cells in [list(header), *lines]) for i in range(len(header))]
    for cells in [list(header), *lines]:
        click.echo(
            "  ".join(
                cell.rjust(width) if i == len(header) - 1 else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths))
            ).rstrip()
        )


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(dataset: Path, as_json: bool) -> None:
    """Summarise a saved DATASET as `hwprof measure` does at the end of a run.

    Each network against the sum of its layers, the slowest layers, power and energy where a sensor
    was used, the commands `hwprof run` measured into it, and in brief where and how each of its runs
    was measured.
    """
    from hwprof.cli.measure import print_summary, summarize_frame
    from hwprof.cli.run import command_entries, command_lines
    from hwprof.dataset import not_measured, not_measured_line, read_dataset, run_conditions
    from hwprof.measuring.fit_sweep import cut_short_line, unfinished_sweep
    from hwprof.samples import read_samples

    frame = read_dataset([dataset])
    provenance = frame.attrs["provenance"]
    runs = [
        {key: run.get(key) for key in ("run_id", "status", "device_name", "threads", "hwprof", "torch", "start_time")}
        | {"power_source": (run.get("power") or {}).get("source"), "rows": run.get("rows")}
        | {"execution": _execution(run)}
        | {key: run_conditions(run).get(key) for key in ("allocator", "cache")}
        for run in provenance
    ]
    summary = summarize_frame(frame, read_samples(dataset), provenance)
    commands = command_entries(frame, provenance)
    missing = not_measured(frame, provenance[-1] if provenance else {})
    sweep_left = unfinished_sweep(provenance)
    if as_json:
        document = {"dataset": str(dataset), "rows": len(frame), "runs": runs, **summary, "commands": commands}
        echo_json(document | {"not_measured": missing, "sweep_unfinished": sweep_left})
        return
    if summary["networks"] or not commands:
        print_summary(summary, str(dataset), provenance)
    for line in command_lines(commands):  # the lines are a dataset's: a name's escape sequences are shown, not obeyed
        click.echo(printable(line, newlines=False))
    for run, recorded in zip(runs, provenance):
        known = {key: "unrecorded" if run.get(key) is None else run[key] for key in RUN_FIELDS}  # shards' runs too
        # a command of `hwprof run` runs under its own settings and its own torch, which hwprof cannot see: hwprof
        # set no intra-op threads for it, and the torch it recorded is its own (hwprof_build)
        command = "command" in recorded
        count = run["threads"]
        threads = "" if command else f"{count or 'unrecorded'} thread{'' if count == 1 else 's'}, "
        torch_words = "" if command else f"torch {known['torch']}, "
        line = (
            f"run {str(run['run_id'])[:8]} ({known['status']}): {known['rows']} row{'' if known['rows'] == 1 else 's'} "
            f"on {known['device_name']}, "
            f"{''.join(f'{word}, ' for word in run['execution'])}"
            f"{threads}power {run['power_source'] or 'unavailable'}, {_unusual_settings(run)}"
            f"hwprof {known['hwprof']}, {torch_words}started {known['start_time']}"
        )
        click.echo(printable(line, newlines=False))
    for reason in summary["power_unavailable"]:
        click.echo(printable(f"power unavailable: {reason}", newlines=False))
    if missing:
        click.echo(printable(not_measured_line(missing, provenance[-1], path=dataset), newlines=False))
    if sweep_left:
        click.echo(printable(cut_short_line(sweep_left, provenance[-1], dataset), newlines=False))


RUN_FIELDS = (
    "status",
    "rows",
    "device_name",
    "hwprof",
    "torch",
    "start_time",
)  # said "unrecorded" where a run lacks one


DEFAULT_SETTINGS = {
    "allocator": DEFAULT_POLICY,
    "cache": DEFAULT_CACHE_MODE,
}  # measure's, which a run line leaves unsaid


def _unusual_settings(run: dict) -> str:
    """ "allocator system, cache warm, ": a run's allocator and its layers' cache mode where not the default (an
    allocator not applied included), each followed by a comma; empty where both are the default or unrecorded."""
    return "".join(
        f"{key} {run[key]}, " for key, default in DEFAULT_SETTINGS.items() if run[key] not in (None, default)
    )


def _execution(run: dict) -> list[str]:
    """How a run measured, where not float32, eager and contiguous: its dtype, compiled, channels-last."""
    from hwprof.cli.measure import how_run
    from hwprof.dataset import run_section

    execution = run_section(run, "execution")
    return how_run(execution.get("dtype"), execution.get("compile"), execution.get("channels_last"))
