"""The report page: sections in a fixed order, every figure embedded as a base64 PNG, no script and no
reference outside the file, so it opens offline in any browser."""

from __future__ import annotations

import base64
import html
import math
import os
import shlex
from pathlib import Path

import pandas as pd

import hwprof
from hwprof.errors import HwprofError, UnfinishedDatasetWarning, given_percent, option, true_or_false, warn
from hwprof.files import check_output, now_text, write_text_atomically
from hwprof.plotting import png_bytes
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.report import command_seconds_text, figures
from hwprof.schema import CONTENDED_SHARE

REPORT_SUFFIXES = (".html", ".htm")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
img { max-width: 100%; height: auto; display: block; margin: .5em 0; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; }
td, th { border: 1px solid #ddd; padding: .2em .5em; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-style: italic; }
"""


def check_report_path(out: str | os.PathLike, inputs) -> Path:
    """Refuse, before any work, a report that could not be written where asked or would replace an input."""
    if not os.fspath(out):
        raise HwprofError(f"the report's name ({option('out')}) is empty: give a file name such as report.html")
    if Path(out).suffix.lower() not in REPORT_SUFFIXES:
        raise HwprofError(f"the report {out} must end in .html")
    return check_output(out, inputs=inputs, force=True)  # a report is redrawn at will: replacing one is fine


class Page:
    """Sections of HTML, in order; figures go in as embedded PNGs."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str, list[str]]] = []
        self.images = 0

    def section(self, anchor: str, title: str) -> list[str]:
        parts: list[str] = []
        self.sections.append((anchor, title, parts))
        return parts

    def figure(self, parts: list[str], figure, alt: str) -> None:
        data = base64.b64encode(png_bytes(figure)).decode("ascii")
        parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')
        self.images += 1

    @staticmethod
    def note(parts: list[str], text: str) -> None:
        if text:
            parts.append(f'<p class="note">{html.escape(text)}</p>')

    @staticmethod
    def table(parts: list[str], header: list[str], rows: list[list]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def render(self, title: str, subtitle: str) -> str:
        toc = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t, _ in self.sections)
        body = "".join(
            f'<section id="{a}"><h2>{html.escape(t)}</h2>{"".join(parts)}</section>' for a, t, parts in self.sections
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p><ul>{toc}</ul>{body}</body></html>\n"
        )


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _label(path: Path, paths: list[Path]) -> str:
    """How the report names a dataset: its file name, or its path where another dataset has the same name
    (run1/cpu.parquet and run2/cpu.parquet), so that each row is counted under its own file."""
    from hwprof.fitting.data import readable_text  # a column of the rows: pyarrow refuses surrogates

    return readable_text(path.name if [p.name for p in paths].count(path.name) == 1 else str(path))


def _read(paths: list[Path], runs_of: dict[Path, list[dict]]) -> tuple[pd.DataFrame, dict[Path, str]]:
    """The datasets as one table, each row knowing which file it came from (`source`); a run found in two
    of them (a copied dataset) is refused, as merge refuses it, so that no row counts twice. With the note on
    each dataset whose run has not finished (unfinished_note), warned as read_dataset warns it and kept for
    the overview."""
    from hwprof.dataset import claim_runs, read_dataset_noting

    frames = []
    notes: dict[Path, str] = {}
    run_owner: dict[str, Path] = {}
    for path in paths:
        frame = read_dataset_noting([path], lambda _, note, path=path: _noted(notes, path, note))
        run_ids = set(frame["run_id"].dropna()) | {run.get("run_id") for run in runs_of[path]}
        claim_runs(run_owner, run_ids - {None}, path, "dataset")
        frame["source"] = _label(path, paths)
        frames.append(frame)
    return _with_run_settings(pd.concat(frames, ignore_index=True), runs_of), notes


def _with_run_settings(frame: pd.DataFrame, runs_of: dict[Path, list[dict]]) -> pd.DataFrame:
    """`frame` with the thread count, allocator policy and cache mode of each row's run on it, those the runs
    recorded more than one value of, as `hwprof show` takes them (dataset.run_settings): a median over runs that
    differ in one describes none. A setting that does not vary is left empty, so that it names no series."""
    from hwprof.dataset import RUN_SETTINGS, run_settings

    split = run_settings(frame, [run for runs in runs_of.values() for run in runs])
    return frame.assign(
        **{setting: frame["run_id"].map(split[setting]) if setting in split else None for setting in RUN_SETTINGS}
    )


def _noted(notes: dict[Path, str], path: Path, note: str) -> None:
    """`path`'s note kept in `notes`, and warned (pointing at the caller outside hwprof) as read_dataset warns it."""
    notes[path] = note
    warn(note, UnfinishedDatasetWarning)


def build_report(
    datasets,
    out: str | os.PathLike,
    predictor: str | os.PathLike | None = None,
    confidence: float = INTERVAL_CONFIDENCE,
    run_model_files: bool = False,
) -> dict:
    """Write the report of `datasets` (and of `predictor` on them) to `out`; a summary of what went in.
    `run_model_files` lets the predictor's scoring run the Python files network rows name (see evaluate)."""
    from hwprof.dataset import check_each_given_once, read_provenance, without_sample_sidecars
    from hwprof.fitting.data import checked_runs, readable_text
    from hwprof.predictor.predictor import check_confidence

    check_confidence(confidence)  # a level out of range is refused with or without a predictor
    run_model_files = true_or_false("run_model_files", run_model_files)
    paths = without_sample_sidecars([Path(p) for p in datasets])  # data/*.parquet matches them too
    if not paths:
        raise HwprofError("no dataset was given; pass at least one .parquet or .csv file")
    check_each_given_once(paths, "dataset")
    out = check_report_path(out, [*paths, *([predictor] if predictor else [])])
    runs_of = {path: checked_runs(read_provenance(path), path) for path in paths}  # read once, for every section
    frame, journal_notes = _read(paths, runs_of)
    scored_on = _scored_device(predictor, frame) if predictor is not None else None
    page = Page()
    _overview(page, frame, paths, runs_of, journal_notes)
    _breakdown(page, frame)
    peaks = _roofline(page, frame)
    unavailable = _power_unavailable(runs_of)
    _batch(page, frame, unavailable)
    traces = _power(page, paths, runs_of)
    _commands(page, frame, unavailable)
    if predictor is not None:
        _predictor(page, scored_on, predictor, paths, confidence, frame, run_model_files)
    stamp = now_text()
    text = page.render(
        f"hwprof report: {', '.join(_label(p, paths) for p in paths)}",
        f"written {stamp} by hwprof {hwprof.__version__} from {len(frame)} rows",
    )
    try:
        write_text_atomically(out, readable_text(text))  # file names in notes: see _label
    except OSError as error:
        raise HwprofError(f"cannot write the report {out}: {error.strerror or error}") from None
    return {
        "out": str(out),
        "sections": [anchor for anchor, _, _ in page.sections],
        "images": page.images,
        "traces": traces,
        "peaks": peaks,
    }


def _overview(
    page: Page, frame: pd.DataFrame, paths: list[Path], runs_of: dict[Path, list[dict]], journal_notes: dict[Path, str]
) -> None:
    parts = page.section("overview", "Datasets")
    rows = []
    for path in paths:
        part = frame[frame["source"] == _label(path, paths)]
        runs = runs_of[path]
        rows.append(
            [
                _label(path, paths),
                len(part),
                int((part["kind"] == "layer").sum()),
                int((part["kind"] == "network").sum()),
                int((part["kind"] == "command").sum()),
                _once_over_runs(part, part["stable"].eq(False)),  # null (a command, from elsewhere): not unstable
                _once_over_runs(part, part["other_cpu_share"].gt(CONTENDED_SHARE)),
                ", ".join(sorted(part["device_name"].dropna().astype(str).unique())),
                _runs_text(runs),
                ", ".join(sorted({str((r.get("power") or {}).get("source") or "none") for r in runs})) or "-",
            ]
        )
    header = ["dataset", "rows", "layer rows", "network rows", "commands", "unstable rows", "contended rows"]
    page.table(parts, [*header, "device", "runs", "power"], rows)
    page.note(
        parts,
        f"Unstable rows missed their precision target; contended rows were measured while other processes took "
        f"more than {CONTENDED_SHARE:.0%} of the CPU, so their times may be inflated. Each layer and network counts "
        "once however many runs measured it, as hwprof show counts them.",
    )
    for path in paths:
        rows = frame[frame["source"] == _label(path, paths)]
        for text in _unfinished(path, paths, runs_of[path], rows, journal_notes.get(path)):
            page.note(parts, text)


ITEM_KEYS = ("model", "batch_size", "seq_len", *figures.SETTINGS)  # a network, as show tells networks apart


def _once_over_runs(part: pd.DataFrame, flagged: pd.Series) -> int:
    """How many layers and networks of `part` are `flagged` in any of their rows, each counted once however many
    runs measured it, as `hwprof show` counts unstable and contended rows (cli.measure._group_counts): merged
    reruns would otherwise count a layer once per run under the same words."""
    keys = [part[key].astype(str) for key in ITEM_KEYS if key in part]
    item = part["layer_index"].where(part["kind"] == "layer", -1).fillna(-1)  # -1: the network (or a command)
    return int(flagged.groupby([*keys, item, part["kind"]], dropna=False).max().sum())


UNFINISHED = {
    "running": "still running",
    "interrupted": "interrupted",
    "failed": "failed",
}  # RUN_STATUSES less complete


def _runs_text(runs: list[dict]) -> str:
    """How many runs, and how many of them did not finish, by status: "2 (1 interrupted)"."""
    counts = {word: sum(run.get("status") == status for run in runs) for status, word in UNFINISHED.items()}
    unfinished = ", ".join(f"{count} {word}" for word, count in counts.items() if count)
    return f"{len(runs)} ({unfinished})" if unfinished else str(len(runs))


def _unfinished(path: Path, paths: list[Path], runs: list[dict], rows: pd.DataFrame, journal: str | None) -> list[str]:
    """Sentences on each of `path`'s runs that did not finish, as `hwprof show` names them, and on the rows
    only its journal holds (`journal`: its unfinished_note, as the read gave it): a report of a run cut short
    must not read as a full one."""
    from hwprof.dataset import not_measured, not_measured_line
    from hwprof.measuring.fit_sweep import cut_short_line, unfinished_sweep

    label = _label(path, paths)
    texts = [
        f"{label}: run {str(run.get('run_id'))[:8]} ({UNFINISHED[run['status']]}) did not finish, so these data "
        f"may lack what it had still to measure: `hwprof show {shlex.quote(str(path))}` names it"
        for run in runs
        if run.get("status") in UNFINISHED
    ]
    missing = not_measured(rows, runs[-1]) if runs else []  # what a resume measures, as `hwprof show` says it
    sweep_left = unfinished_sweep(runs)
    texts += [f"{label}: {not_measured_line(missing, runs[-1], path=path)}"] if missing else []
    texts += [f"{label}: {cut_short_line(sweep_left, runs[-1], path)}"] if sweep_left else []
    return [*texts, journal] if journal else texts


def _breakdown(page: Page, frame: pd.DataFrame) -> None:
    parts = page.section("breakdown", "Time by op type, per network")
    figure, note = figures.time_by_op(frame)
    if figure is not None:
        page.figure(parts, figure, "time per inference of each network, stacked by op type")
    page.note(parts, note)


def _roofline(page: Page, frame: pd.DataFrame) -> dict:
    parts = page.section("roofline", "Roofline of every layer")
    figure, note, peaks = figures.roofline(frame)
    if figure is not None:
        page.figure(parts, figure, "achieved GMAC/s against arithmetic intensity, under the measured roof")
        page.table(
            parts,
            ["device", "peak GMAC/s (measured)", "peak GB/s (measured)", "fastest layer"],
            [[device, p["gmac_s"], p["gb_s"], p["best_layer"]] for device, p in peaks.items()],
        )
        page.note(
            parts,
            "The roof is the highest compute rate and the highest memory rate any layer reached in these data, "
            "not a datasheet figure.",
        )
    page.note(parts, note)
    return peaks


def _power_unavailable(runs_of: dict[Path, list[dict]]) -> dict[str, str]:
    """run_id -> why that run measured no power, as its provenance recorded it."""
    reasons = {}
    for runs in runs_of.values():
        for run in runs:
            reason = (run.get("power") or {}).get("unavailable_reason")
            if reason and run.get("run_id"):
                reasons[run["run_id"]] = reason
    return reasons


def _reasons_of(rows: pd.DataFrame, unavailable: dict[str, str]) -> list[str]:
    """The distinct recorded reasons why `rows` have no power, each once."""
    return list(dict.fromkeys(unavailable[r] for r in rows["run_id"].dropna() if r in unavailable))


def _batch(page: Page, frame: pd.DataFrame, unavailable: dict[str, str]) -> None:
    parts = page.section("batch", "Latency and energy against batch size")
    if not (frame["kind"] == "network").any():  # not a lack of power: 'no energy measured' would mislead
        commands = " (the commands of hwprof run, with their time and energy, are under Commands)"
        held = commands if (frame["kind"] == "command").any() else ""
        page.note(parts, f"no network rows, so nothing to plot against batch size{held}")
        return
    for column, label in (("latency_ms", "latency per inference (ms)"), ("energy_mj", "energy per inference (mJ)")):
        figure, note = figures.against_batch_size(frame, column, label)
        if figure is not None:
            page.figure(parts, figure, f"{label} against batch size")
        elif column == "energy_mj":
            reasons = _reasons_of(frame[frame["kind"] == "network"], unavailable)
            note = (
                f"no energy measured, power was unavailable: {'; '.join(reasons)}"
                if reasons
                else "no energy measured: no network row has energy_mj (no usable power sensor, or --power none)"
            )
        page.note(parts, note)
    _latency_table(page, parts, frame)


def _latency_table(page: Page, parts: list[str], frame: pd.DataFrame) -> None:
    """Each network's measured latency in figures, with its 95% interval or why it has none, and its energy
    where any was measured: past MAX_LEGEND networks the plots name no line, and this table is their legend."""
    frame, settings = figures.with_devices(frame)
    networks = frame[(frame["kind"] == "network") & frame["latency_ms"].notna() & (frame["latency_ms"] > 0)]
    if networks.empty:
        return
    several = frame["source"].nunique() > 1
    keys = ["source", "model", "seq_len", *settings, "batch_size"]
    spread = figures.measured_spread(networks, keys)
    energy = networks["energy_mj"].where(networks["energy_mj"] > 0)  # as the energy plot, which draws none of 0
    with_energy = energy.notna().any()
    if with_energy:
        spread = spread.join(energy.groupby([networks[k] for k in keys], dropna=False).median())
    rows = []
    for key, row in spread.iterrows():
        named = dict(zip(keys, key))
        if row["runs"] > 1:  # as show says it: the median of the runs' medians has no one interval
            interval = f"- (median of {int(row['runs'])} runs)"
        elif row["unbounded"]:
            interval = "none: too few samples"
        elif pd.isna(row["latency_ms_ci_low"]):
            interval = "-"
        else:
            interval = " .. ".join(_bound_text(row[bound]) for bound in figures.BOUNDS)
        rows.append(
            [
                figures.network_label(named, several, settings),
                row["latency_ms"],
                interval,
                *([row["energy_mj"]] if with_energy else []),
            ]
        )
    header = ["network", "latency ms (median)", "95% CI ms", *(["energy mJ (median)"] if with_energy else [])]
    page.table(parts, header, rows)


def _bound_text(value: float) -> str:
    """An interval's end; an infinite one in words, so that 'inf' is not read as a measured figure."""
    return f"{value:.4g}" if math.isfinite(value) else "unbounded"


def _unpowered(runs: list[dict]) -> list[str]:
    """Why `runs` measured no power, each reason once, where none of them had a sensor (so none could trace):
    --trace would not have helped."""
    powers = [run.get("power") or {} for run in runs]
    if not powers or any(power.get("source") for power in powers):
        return []
    return list(dict.fromkeys(power["unavailable_reason"] for power in powers if power.get("unavailable_reason")))


def _power(page: Page, paths: list[Path], runs_of: dict[Path, list[dict]]) -> list[str]:
    from hwprof.traces import read_trace, trace_path_for

    parts = page.section("power", "Power traces")
    found = []
    for path in paths:
        trace_path = Path(trace_path_for(path))
        if not trace_path.exists():
            reasons = _unpowered(runs_of[path])
            why = (
                f", as power was unavailable: {'; '.join(reasons)}"
                if reasons
                else f" ({trace_path.name} not found; measure or run with --trace)"
            )
            page.note(parts, f"{_label(path, paths)}: no power trace{why}")
            continue
        frame = read_trace(trace_path)
        if frame.empty:
            page.note(parts, f"{_label(path, paths)}: no power trace ({trace_path.name} holds no samples)")
            continue
        page.figure(parts, figures.trace(frame, trace_path.name), f"power trace {trace_path.name}")
        found.append(str(trace_path))
    return found


def _commands(page: Page, frame: pd.DataFrame, unavailable: dict[str, str]) -> None:
    import json

    from hwprof.measuring.command import board_words

    parts = page.section("commands", "Commands (hwprof run)")
    commands = frame[frame["kind"] == "command"]
    if commands.empty:  # said, not left out: a reader looks for the section the help lists
        page.note(parts, "no commands: no row of these datasets was measured by hwprof run")
        return
    rows = [
        [
            row.model,
            board_words(row.device_name, row.device, ""),
            json.loads(row.config).get("exit_status") if isinstance(row.config, str) else None,
            command_seconds_text(row.latency_ms / 1000.0),
            None if pd.isna(row.energy_mj) else row.energy_mj / 1000.0,
            None if pd.isna(row.power_w) else row.power_w,
            None if pd.isna(row.idle_power_w) else row.idle_power_w,
            row.power_flags if isinstance(row.power_flags, str) and row.power_flags else "",
        ]
        for row in commands.itertuples(index=False)
    ]
    header = ["command", "device", "exit status", "time (s)", "energy (J)", "power (W)", "idle (W)", "flags"]
    page.table(parts, header, rows)
    without_energy = commands[commands["energy_mj"].isna()]
    for reason in _reasons_of(without_energy, unavailable):
        count = int(without_energy["run_id"].map(unavailable).eq(reason).sum())
        page.note(parts, f"energy unavailable for {count} command(s): {reason}")


def _scored_device(predictor_path, frame: pd.DataFrame):
    """(predictor, device): a predictor describes one board, so it is scored on that board's rows, or on the
    only device measured (a transfer, which evaluate notes). Decided before anything is drawn."""
    from hwprof.predictor.predictor import load_predictor

    predictor = load_predictor(predictor_path)
    measured = frame[frame["kind"].isin(("layer", "network"))]
    if measured.empty:
        held = "only commands measured by hwprof run" if (frame["kind"] == "command").any() else "no rows"
        raise HwprofError(
            f"the datasets hold no measured network or layer rows to score the predictor on ({held}); "
            "drop --predictor, or add a dataset from hwprof measure"
        )
    devices = sorted(measured["device_name"].dropna().astype(str).unique())
    fitted_on = predictor.doc.get("device_name")
    if fitted_on in devices:
        return predictor, fitted_on
    if len(devices) == 1:
        return predictor, devices[0]
    raise HwprofError(
        f"the predictor was fitted on {fitted_on!r}, which none of the datasets' devices "
        f"({', '.join(map(repr, devices))}) is: give the datasets of one device"
    )


def _predictor(
    page: Page,
    scored_on,
    predictor_path,
    paths: list[Path],
    confidence: float,
    frame: pd.DataFrame,
    run_model_files: bool,
):
    from hwprof.fitting.evaluate import evaluate, figure

    predictor, device = scored_on
    parts = page.section("predictor", "Predicted against measured")
    scored = [
        p for p in paths if device in set(frame.loc[frame["source"] == _label(p, paths), "device_name"].astype(str))
    ]
    report, points = evaluate(predictor, scored, confidence, device_name=device, run_model_files=run_model_files)
    page.note(parts, f"scored on the rows measured on {device} ({', '.join(_label(p, paths) for p in scored)})")
    drawn = figure(points, Path(predictor_path).name, op_styles=figures.op_styles(frame))
    page.figure(parts, drawn, "predicted against measured")
    rows = [[f"network {target}", *_metric_cells(m)] for target, m in report["network"].items()]
    rows += [[f"layers: {op}", *_metric_cells(m)] for op, m in report["layers"].items()]
    coverage = f"coverage of {given_percent(confidence)} intervals"  # a coverage means little without its level
    page.table(parts, ["scored", "n", "MAPE", "RMSPE", "within ±10%", "Spearman", coverage], rows)
    page.note(parts, report.get("note", ""))


PERCENT_METRICS = ("mape", "rmspe", "within_10pct", "coverage")  # fractions, shown as hwprof evaluate shows them


def _metric_cells(metrics: dict) -> list:
    return [
        _percent(metrics.get(k)) if k in PERCENT_METRICS else metrics.get(k)
        for k in ("n", "mape", "rmspe", "within_10pct", "spearman", "coverage")
    ]


def _percent(value) -> str | None:
    """A fraction as `hwprof evaluate` prints it, 0.655 as 65.5%; none stays none (shown as -)."""
    return None if value is None or value != value else f"{100 * value:.1f}%"
