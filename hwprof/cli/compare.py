"""`hwprof compare BASE NEW`: what changed between two runs, whether it is significant, and a CI gate."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from hwprof.cli.common import echo_json, make_console

SHOWN_LAYERS = 20  # layer rows in the table: significant changes first, then the largest
SHOWN_NETWORKS = 20  # network rows in the table, and models and ops in theirs, chosen as the layer rows are
METRIC_WORDS = {"latency_ms": "latency", "energy_mj": "energy", "power_w": "power"}


@click.command()
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--fail-above",
    default=None,
    metavar="PERCENT",
    help="Exit 1 when --metric rises significantly by more than this percentage, e.g. 5% (a bare number is a "
    "percent too: 5 is 5%): a CI gate. Every network, model and op it tests is judged with Holm's correction for "
    "testing them all at once, so gating many models does not multiply its false alarms.",
)
@click.option(
    "--metric",
    type=click.Choice(["latency_ms", "energy_mj"]),
    default="latency_ms",
    show_default=True,
    help="What --fail-above gates on (the tables show energy and power wherever both datasets have them).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole comparison as JSON, every row included.")
def compare(base: Path, new: Path, fail_above: str | None, metric: str, as_json: bool) -> None:
    """Compare dataset NEW against dataset BASE (whole datasets or shards), row by row.

    Rows measuring the same thing (device, model, batch size, layer, configuration) are paired; a
    target an input measured in several runs (merged reruns) counts as the median of its runs. For
    each: the ratio NEW / BASE of latency, and of energy and power where both have them; for latency,
    from the raw samples kept beside each dataset (DATASET.samples.parquet), the 95% interval of the
    ratio of medians (bootstrap) and a verdict (Mann-Whitney U and that interval must both say it
    changed). A network's energy and power, and every figure of a command hwprof run timed, have one
    figure per run: where the sides hold enough runs of one (two each, or three against one), the
    spread between those runs tests them. Per model and per op (and per dtype or setting where the
    files hold several), the geometric mean of the ratios.
    Without raw samples the ratios are shown and the verdicts say why they are missing. A network
    row only one side holds (an eager run's network against a --compile run's) is listed as only in
    BASE or NEW, named with its setting.

    Exit status: 0, or 1 when --fail-above is given and --metric rose significantly by more than it
    in a row, a model or an op; 2 when the inputs cannot be compared or the gate cannot decide,
    which includes a board of BASE that NEW did not measure as BASE did: a device NEW has no row of,
    one measured with another dtype or setting, or, for boards sharing a device name, a host NEW has
    no run from. To gate fewer boards on purpose, compare against a baseline of only those.
    """
    from hwprof.compare import check_every_device_gated, parse_threshold
    from hwprof.compare import compare as run_compare

    check_metric_gates(click.get_current_context(), fail_above, metric)
    threshold = parse_threshold(fail_above) if fail_above is not None else None
    from hwprof.progress import Notes

    # a fleet's pair takes minutes: how far it got goes to stderr, never into stdout's table or JSON
    report = run_compare(base, new, fail_above=threshold, metric=metric, progress=Notes(_echo_err))
    if as_json:
        echo_json(report)
    else:
        print_report(report)
    if report.get("gate", {}).get("regressions"):
        sys.exit(1)
    check_every_device_gated(report)


def check_metric_gates(context: click.Context, fail_above: str | None, metric: str) -> None:
    """--metric only chooses what --fail-above gates on; given alone it would change nothing, silently."""
    from hwprof.compare import CannotCompare

    if fail_above is None and context.get_parameter_source("metric") is not click.core.ParameterSource.DEFAULT:
        raise CannotCompare(
            f"--metric {metric} only chooses what --fail-above gates on: add --fail-above 5% to gate on it, or "
            "leave --metric out (the tables show energy and power wherever both datasets have them)"
        )


def names(items: list[str], shown: int = 5) -> str:
    """The first few of `items`, and how many more: a note stays one line however many there are."""
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def figure(value: float | None) -> str:
    """A side's figure in a table cell; "-" where the side had none."""
    return "-" if value is None else f"{value:.4g}"


def change(ratio: float | None) -> str:
    return "-" if ratio is None or not math.isfinite(ratio) else f"{100 * (ratio - 1):+.1f}%"


def interval(result: dict | None) -> str:
    if not result or result.get("ci_low") is None:
        return "-"
    return f"{change(result['ci_low'])} .. {change(result['ci_high'])}"


def verdict(result: dict | None) -> str:
    return result["verdict"] if result else "-"


def print_report(report: dict) -> None:
    from rich.table import Table

    from hwprof.compare import WHOLE_KINDS, label

    console = make_console()
    console.print(
        f"{report['new']} against {report['base']}: {report['matched_rows']} rows paired "
        f"({report['only_in_base']} only in BASE, {report['only_in_new']} only in NEW)"
    )
    console.print(f"method: {report['method']}", soft_wrap=True)
    if report["devices_only_in_base"]:
        console.print(
            f"note: NEW has no row of {names(report['devices_only_in_base'])}: only BASE measured it, so nothing "
            "of it is compared",
            soft_wrap=True,
        )
    if report["devices_only_in_new"]:
        console.print(
            f"note: BASE has no row of {names(report['devices_only_in_new'])}: only NEW measured it, so nothing "
            "of it is compared or gated (a board added since BASE needs a new baseline)",
            soft_wrap=True,
        )
    for entry in report["devices_measured_otherwise"]:
        console.print(
            f"note: {entry['device_name']} was measured otherwise ({entry['how']}): its rows pair with nothing, "
            "so nothing of it is compared",
            soft_wrap=True,
        )
    for entry in report["boards_only_in_base"]:
        console.print(f"note: {entry['why']}", soft_wrap=True)
    unpaired = {  # a model in settings the other side lacks is named with them: "cnn bfloat16"
        "models only in BASE{on}": report["models_only_in_base"],
        "models only in NEW in these settings{on} (BASE measured them in others)": report["settings_only_in_new"],
    }
    named = {*report["devices"], *report["devices_only_in_base"]}
    named |= {
        entry["device_name"]
        for entries in [*unpaired.values(), report["devices_measured_otherwise"]]
        for entry in entries
    }
    for what, entries in unpaired.items():
        by_device = {}
        for entry in entries:
            by_device.setdefault(entry["device_name"], []).append(label(entry, "model").removeprefix("model "))
        for device, models in by_device.items():
            on = f" on {device}" if len(named) > 1 else ""  # a fleet's: which board's models, even with one compared
            console.print(f"note: {what.format(on=on)}: {names(models)}", soft_wrap=True)
    for entry in report["unpaired_layers"]:
        console.print(f"note: {entry['why']}", soft_wrap=True)
    for difference in report["run_differences"]:
        console.print(f"note: {difference}", soft_wrap=True)
    reason = report["raw_samples"]["unavailable_reason"]
    commands = all(row["kind"] == "command" for row in report["rows"])  # tested by their runs, not by samples
    if reason:
        console.print(f"{'note' if commands else 'significance unavailable'}: {reason}", soft_wrap=True)
    metrics = report["metrics"]
    others = [m for m in metrics if m != "latency_ms"]

    focus = (report.get("gate") or {}).get("metric", "latency_ms")
    networks, networks_left_out = most_changed([row for row in report["rows"] if row["kind"] in WHOLE_KINDS], focus)
    layers = sorted((row for row in report["rows"] if row["kind"] not in WHOLE_KINDS), key=lambda row: rank(row, focus))
    table = Table("row", "op", "base ms", "new ms", "change", "95% CI", "p", "verdict", title="rows")
    for name in others:
        table.add_column(f"{METRIC_WORDS[name]} change")
    for row in networks + layers[:SHOWN_LAYERS]:
        latency = row.get("latency_ms") or {}
        p_value = latency.get("p_value")
        cells = [
            label(row, devices=len(report["devices"])),
            row["op"],
            figure(latency.get("base")),
            figure(latency.get("new")),
            change(latency.get("ratio")),
            interval(latency),
            "-" if p_value is None else f"{p_value:.2g}",
            verdict(latency),
        ]
        table.add_row(*cells, *[change((row.get(name) or {}).get("ratio")) for name in others])
    unpaired_networks = [(role, entry) for role in ("base", "new") for entry in report[f"networks_only_in_{role}"]]
    for role, entry in unpaired_networks[:SHOWN_NETWORKS]:
        latency = {role: figure(entry["latency_ms"])}
        cells = [label(entry, devices=len(report["devices"])), "network", latency.get("base", "-")]
        cells += [latency.get("new", "-"), "-", "-", "-", f"only in {role.upper()}"]
        table.add_row(*cells, *["-" for _ in others])
    console.print(table)
    if unpaired_networks[SHOWN_NETWORKS:]:
        console.print(
            f"{len(unpaired_networks) - SHOWN_NETWORKS} more network rows only in BASE or NEW not shown: --json "
            "lists every one (networks_only_in_base, networks_only_in_new)",
            soft_wrap=True,
        )
    if networks_left_out:
        kinds = sorted({row["kind"] for row in networks + networks_left_out}, key=WHOLE_KINDS.index)
        what = f"{' and '.join(kinds)} rows"
        console.print(left_out_line(networks_left_out, what, SHOWN_NETWORKS, focus), soft_wrap=True)
    if layers[SHOWN_LAYERS:]:
        console.print(left_out_line(layers[SHOWN_LAYERS:], "layer rows", SHOWN_LAYERS, focus), soft_wrap=True)

    for by in ("model", "op"):
        table = Table(by, "rows", title=f"per {by}: geometric mean of the row ratios (distinct measurements)")
        for name in metrics:
            table.add_column(METRIC_WORDS[name])
            table.add_column("95% CI")
            table.add_column("verdict")
        entries, left_out = most_changed(report[f"{by}s"], focus)
        for entry in entries:
            results = [entry.get(name) for name in metrics]
            rows = max((result["rows"] for result in results if result), default=0)
            cells = [label(entry, by, len(report["devices"])).removeprefix(f"{by} "), str(rows)]
            for result in results:
                cells += [change((result or {}).get("ratio")), interval(result), verdict(result)]
            table.add_row(*cells)
        console.print(table)
        if left_out:
            console.print(left_out_line(left_out, f"{by}s", SHOWN_NETWORKS, focus), soft_wrap=True)

    counts = {}
    for row in report["rows"]:
        result = row.get("latency_ms")
        if result:
            counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
    console.print("latency rows: " + ", ".join(f"{n} {word}" for word, n in sorted(counts.items())))
    flags = report.get("power_flags") or {}
    if flags.get("flagged_rows"):
        listed = ", ".join(f"{flag} {count}" for flag, count in flags["flags"].items())
        console.print(
            f"power flags: {flagged_rows(flags['flagged_rows'], flags['compared_rows'], ' compared on energy and power')}"
            f" in BASE or NEW ({listed}): their energy and power changes are less certain; --json lists each row's",
            soft_wrap=True,
        )
    for name in metrics:  # rows with no ratio: left out of the summaries, and of the gate, which says so
        missing = [row for row in report["rows"] if row[name]["ratio"] is None]
        if missing:
            console.print(
                f"{len(missing)} of {len(report['rows'])} rows {'has' if len(missing) == 1 else 'have'} no "
                f"{METRIC_WORDS[name]} ratio (not compared, not unchanged), as BASE or NEW "
                f"has no positive {name} for {'it' if len(missing) == 1 else 'them'} "
                f"({names([label(row, devices=len(report['devices'])) for row in missing])}), e.g.: "
                f"{missing[0][name]['why']}",
                soft_wrap=True,
            )
    untested = [
        row["latency_ms"]["why"]
        for row in report["rows"]
        if row["latency_ms"]["why"] and row["latency_ms"]["ratio"] is not None
    ]
    if untested and (commands or not reason):
        console.print(f"untested rows, e.g.: {untested[0]}", soft_wrap=True)

    gate = report.get("gate")
    if gate:
        word = METRIC_WORDS[gate["metric"]]
        limit = f"{100 * gate['fail_above']:g}%"
        if gate.get("cannot_decide"):
            console.print(f"gate: cannot decide: {gate['cannot_decide']['why']}", soft_wrap=True)
        elif not gate["regressions"]:
            console.print(
                f"gate: no significant {word} rise above {limit} ({gate['tested']} comparisons tested, Holm-corrected)"
            )
        if gate["unchecked_devices"]:
            whys = sorted({entry["reason"] for entry in gate["unchecked"] if "row" not in entry})
            console.print(f"gate: could not check {names(gate['unchecked_devices'])} ({', '.join(whys)} in NEW)")
        rows = [entry["row"] for entry in gate["unchecked"] if "row" in entry]
        if rows:
            console.print(
                f"gate: could not check {len(rows)} row{'' if len(rows) == 1 else 's'} with no positive "
                f"{gate['metric']} in BASE or NEW: {names(rows)}",
                soft_wrap=True,
            )
        for regression in gate["regressions"]:
            doubt = ""
            if regression.get("flagged_rows"):
                behind = "" if regression["where"] == "row" else " behind it"
                rows = flagged_rows(regression["flagged_rows"], regression.get("rows", 1), behind)
                doubt = f"; {rows} ({', '.join(regression['flags'])})"
            console.print(
                f"regression: {regression['label']} {word} {change(regression['ratio'])} "
                f"(95% CI {interval(regression)}), above {limit}{doubt}",
                soft_wrap=True,
            )


def most_changed(entries: list[dict], metric: str) -> tuple[list[dict], list[dict]]:
    """Network rows, models or ops: all of them in their order when SHOWN_NETWORKS or fewer, else the
    SHOWN_NETWORKS that `metric` changed most, significant changes first (as layer rows), and the others."""
    if len(entries) <= SHOWN_NETWORKS:
        return entries, []
    ranked = sorted(entries, key=lambda entry: rank(entry, metric))
    return ranked[:SHOWN_NETWORKS], ranked[SHOWN_NETWORKS:]


def left_out_line(left_out: list[dict], what: str, shown: int, metric: str) -> str:
    """What a table left out, how much of it changed significantly, and where to find it."""
    from hwprof.compare import HIGHER, LOWER

    significant = sum(verdict(entry.get(metric)) in (HIGHER, LOWER) for entry in left_out)
    return (
        f"{len(left_out)} more {what} not shown ({significant} of them changed significantly): the table keeps the "
        f"{shown} {what} whose {METRIC_WORDS[metric]} changed most, significant changes first; --json lists every "
        f"{'row' if what.endswith('rows') else what.removesuffix('s')}"
    )


def flagged_rows(flagged: int, rows: int, which: str = "") -> str:
    """How many rows carry power flags ("3 of the 9 rows{which} carry power flags"), noun and verb agreeing."""
    if rows == 1:
        return f"the row{which} carries power flags"
    return f"{flagged} of the {rows} rows{which} {'carries' if flagged == 1 else 'carry'} power flags"


def rank(row: dict, metric: str) -> tuple:
    """Where a layer row stands in the table: a significant change of `metric` first, then the largest."""
    from hwprof.compare import HIGHER, LOWER

    result = row.get(metric) or {}
    ratio = result.get("ratio")
    size = -abs(math.log(ratio)) if ratio is not None and 0 < ratio < math.inf else math.inf
    return (result.get("verdict") not in (HIGHER, LOWER), size)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)
