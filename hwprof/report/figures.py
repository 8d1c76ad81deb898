"""The report's views, each drawn from a dataset table into a matplotlib figure, or None (with the
reason) where the data has nothing to draw."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from hwprof.plotting import distinct_styles, literal_text, new_figure, plain_log_labels, plain_log_ticks
from hwprof.schema import SWEEP_PREFIX

MAX_BARS = 60  # networks in the time-by-op view; more would not be readable
MAX_ROOFLINES = 6  # devices drawn in the roofline; the page shows a wider grid's panels too small to read
ROOFLINE_COLUMNS = 2  # panels side by side: at the page's width each is still about 550 px
MAX_LEGEND = 15  # series named in a legend; beyond it the legend would hide the plot
LABEL_WIDTH = 48  # characters of a network's label per line: a longer name (an NB-201 cell) wraps
HATCHES = ("", "//", "..", "xx")  # a second look for ops once the palette's colours run out


UNKNOWN_DEVICE = "unknown device"  # a row from elsewhere that names no device


# what a network is measured at; the last three are its run's (page._with_run_settings)
SETTINGS = ("device_name", "dtype", "channels_last", "compiled", "threads", "allocator", "cache")
SETTING_WORDS = {
    "device_name": "device",
    "dtype": "dtype",
    "channels_last": "layout",
    "compiled": "compilation",
    "threads": "thread count",
    "allocator": "allocator policy",
    "cache": "cache mode",
}
DEFAULTS = {"dtype": "float32", "channels_last": "False", "compiled": "False"}  # rows from before the column


def network_label(row, several_sources: bool, settings: list[str] = ()) -> str:
    label = _named(f"{_model_name(row)} b={int(row['batch_size'])}", row, settings)
    return f"{label} [{row['source']}]" if several_sources else label


def _model_name(row) -> str:
    """The model and its sequence length, as `hwprof show` names it ("hf:bert seq 256"): a network at two
    sequence lengths is two networks, whatever else varies."""
    return f"{row['model']} seq {row['seq_len']}" if row.get("seq_len") else str(row["model"])


def _named(name: str, row, settings) -> str:
    """`name` with the settings that tell its series apart, in show's words: board, dtype, layout, compilation,
    threads, allocator policy, cache mode ("mlp b=1 allocator system", "mlp b=1 cache warm")."""
    words = {
        "device_name": lambda v: f"on {v}",
        "dtype": str,
        "channels_last": lambda v: "channels-last" if v == "True" else "",
        "compiled": lambda v: "compiled" if v == "True" else "eager",
        "threads": lambda v: f"{v} thread(s)" if v else "",
        "allocator": lambda v: f"allocator {v}" if v else "",
        "cache": lambda v: f"cache {v}" if v else "",
    }
    parts = [words[column](row[column]) for column in settings]
    return " ".join([name, *(part for part in parts if part)])


def with_devices(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """(frame with every setting of SETTINGS as text on every row, the settings that vary): a fleet file holds
    one network per board, and a merged file may hold a board's float32 and bfloat16 runs, or its runs at one
    and two threads; a median over them would describe none. The sequence length (a number, 0 for a model
    without one) is always a key and always named, as show names it, so it is not among those that vary.
    What varies is read from layer and network rows: a command's row (hwprof run) has none of these settings."""
    frame = frame.copy()
    seq_lens = (
        pd.to_numeric(frame["seq_len"], errors="coerce") if "seq_len" in frame else pd.Series(np.nan, frame.index)
    )
    frame["seq_len"] = seq_lens.fillna(0).astype(int)  # 0: none; a number, so that 16 sorts before 128
    frame["device_name"] = frame["device_name"].astype(object).where(frame["device_name"].notna(), UNKNOWN_DEVICE)
    measured = frame["kind"].isin(("layer", "network"))  # a command of hwprof run records no dtype, layout...
    varying = []
    for column in SETTINGS:
        if column not in frame:
            continue
        values = frame[column].astype(object)
        values = values.where(values.notna(), DEFAULTS.get(column, "")).astype(str)
        frame[column] = values.str.removesuffix(".0")  # a thread count, floated beside a missing one
        if frame.loc[measured, column].nunique() > 1:
            varying.append(column)
    return frame, varying


BOUNDS = ("latency_ms_ci_low", "latency_ms_ci_high")
UNBOUNDED_NOTE = "hollow markers are medians from too few samples to bound: they have no interval"
RUNS_NOTE = "a median of several runs has no bar, as hwprof show gives it no interval: no one run's holds their spread"


def measured_spread(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per value of `keys`: the median latency of its rows, `runs` (its rows, one per run), its 95% interval
    (its row's; NaN where it has none, and where runs were merged into one file: as `hwprof show` says, no one
    row's interval holds the runs' spread, and the median of their bounds is no one's interval) and `unbounded`,
    true where every row's median was from too few samples to bound, so a reader does not take it for a figure
    like the others."""
    from hwprof.dataset import latency_interval_unbounded

    rows = rows.assign(**{bound: rows[bound] if bound in rows else np.nan for bound in BOUNDS})
    unbounded = latency_interval_unbounded(rows)
    rows = rows.assign(_unbounded=unbounded)
    spread = rows.groupby(keys, dropna=False).agg(
        latency_ms=("latency_ms", "median"), runs=("latency_ms", "size"), unbounded=("_unbounded", "all")
    )
    bounded = rows[~unbounded].groupby(keys, dropna=False)[list(BOUNDS)].first()
    spread = spread.join(bounded)
    spread.loc[spread["runs"] > 1, list(BOUNDS)] = np.nan
    return spread


def _error(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """matplotlib's (below, above) error lengths of an interval around each value; 0 where it has none, and
    towards an infinite end (a bar to inf would blow the axis up; the table says the end is unbounded)."""
    below = np.where(np.isfinite(low), np.maximum(values - low, 0), 0)
    above = np.where(np.isfinite(high), np.maximum(high - values, 0), 0)
    return np.nan_to_num(np.vstack([below, above]))


def op_styles(frame: pd.DataFrame) -> dict:
    """A colour and marker per op of every layer row in `frame`, ops by name: the report's views are drawn
    from the same frame, so an op has one colour in all of them."""
    return distinct_styles(sorted(frame.loc[frame["kind"] == "layer", "op"].dropna().astype(str).unique()))


@literal_text()
def time_by_op(frame: pd.DataFrame):
    """(figure or None, note): each network's layer time stacked by op type, its measured latency marked;
    a network measured on several devices gets one bar per device."""
    styles = op_styles(frame)
    frame, settings = with_devices(frame)
    layers = frame[(frame["kind"] == "layer") & ~frame["model"].astype(str).str.startswith(SWEEP_PREFIX)]
    keys = ["source", "model", "batch_size", "seq_len", *settings]  # a network's bars on each device... side by side
    written = layers.groupby(keys, dropna=False)["layer_index"].nunique()
    layers = layers[layers["latency_ms"] > 0]
    if layers.empty:
        return None, "no layer rows of networks (none measured, or --no-layers, or sweeps only): nothing to break down"
    several = frame["source"].nunique() > 1
    # a layer measured more than once (runs merged into one file) counts once, at its median
    layers = layers.groupby([*keys, "layer_index", "op"], dropna=False)["latency_ms"].median().reset_index()
    table = layers.pivot_table(index=keys, columns="op", values="latency_ms", aggfunc="sum", fill_value=0.0)
    note = ""
    if len(table) > MAX_BARS:  # the slowest, in their order by name: the first by name may be the quickest
        lengths = ["sequence length"] if frame["seq_len"].gt(0).any() else []
        per = ", ".join(["network", "batch size", *lengths, *(SETTING_WORDS[setting] for setting in settings)])
        note = f"the {MAX_BARS} slowest (by their layers' summed time) of {len(table)} bars (one per {per}) are shown"
        table = table[table.sum(axis=1).rank(method="first", ascending=False) <= MAX_BARS]
    times = table.sum()
    ops = list(times[times > 0].sort_values(ascending=False).index)  # the op taking most time first; only those shown
    ranks = {op: rank for rank, op in enumerate(styles)}  # past the palette's colours, a hatch tells ops apart
    networks = measured_spread(frame[frame["kind"] == "network"], keys)
    partial = _partial(frame[frame["kind"] == "network"], written, keys).reindex(table.index)
    labels = [
        textwrap.fill(
            network_label(dict(zip(keys, key)), several, settings) + words, LABEL_WIDTH, break_on_hyphens=False
        )
        for key, words in zip(table.index, partial.fillna(""))
    ]
    if partial.notna().any():
        note = "; ".join(part for part in (note, PARTIAL_NOTE) if part)
    lines = max(label.count("\n") + 1 for label in labels)
    # the legend stands right of the bars, never on them; the rows are as tall as their wrapped labels
    figure = new_figure(figsize=(13, 1.6 + (0.2 + 0.12 * lines) * len(table)), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(table))
    left = np.zeros(len(table))
    for op in ops:
        values = table[op].to_numpy()
        axis.barh(
            positions,
            values,
            left=left,
            color=styles[op]["color"],
            hatch=HATCHES[(ranks[op] // 20) % len(HATCHES)],
            edgecolor="white",
            linewidth=0.4,
            label=op,
        )
        left += values
    measured = networks.reindex(table.index)
    values = measured["latency_ms"].to_numpy(dtype=float)
    right = left  # where each row ends: its bar, or its measured network's interval past it
    if np.isfinite(values).any():
        low, high = (measured[bound].to_numpy(dtype=float) for bound in BOUNDS)
        errors = _error(values, low, high)
        axis.errorbar(values, positions, xerr=errors, fmt="none", ecolor="black", capsize=2, zorder=3)
        right = np.fmax(left, values + errors[1])  # nan (a bar without a network row) keeps the bar's end
        if measured["runs"].gt(1).any():
            note = "; ".join(part for part in (note, RUNS_NOTE) if part)
        hollow = measured["unbounded"].fillna(False).to_numpy(dtype=bool)
        axis.scatter(
            values[~hollow],
            positions[~hollow],
            marker="D",
            color="black",
            s=22,
            zorder=4,
            label="network, measured whole (95% CI)",
        )
        if hollow.any():
            axis.scatter(
                values[hollow],
                positions[hollow],
                marker="D",
                facecolors="none",
                edgecolors="black",
                s=22,
                zorder=4,
                label="network, too few samples: no interval",
            )
            note = "; ".join(part for part in (note, UNBOUNDED_NOTE) if part)
    axis.set_xlim(0, 1.05 * right.max())  # from no time, with room right of the longest bar or interval
    axis.set_yticks(positions, labels, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("time per inference (ms): layers timed alone, summed by op type")
    axis.grid(True, axis="x", alpha=0.3)
    figure.legend(fontsize=7, loc="outside right upper", ncol=2 if len(ops) > 2 * len(table) + 10 else 1)
    return figure, note


PARTIAL_NOTE = (
    "a bar marked partial holds only the layers its run measured before it stopped, not the whole network: "
    "the overview names what is not measured yet"
)


def _partial(networks: pd.DataFrame, written: pd.Series, keys: list[str]) -> pd.Series:
    """Per key, " (partial: 15 of 69 layers)" where fewer of the network's layers have rows than its network row
    records (layer_count), as not_measured judges an interrupted run's networks, else NaN: a bar of the layers a
    run measured before it stopped would read as the whole network's."""
    if "layer_count" not in networks:
        return pd.Series(np.nan, index=written.index, dtype=object)
    counts = pd.to_numeric(networks["layer_count"], errors="coerce").astype(float)  # nullable Int64 as NaN
    counts = counts.groupby([networks[key] for key in keys], dropna=False).max().reindex(written.index)
    short = written < counts
    words = [f" (partial: {int(n)} of {int(c)} layers)" for n, c in zip(written[short], counts[short])]
    return pd.Series(words, index=written.index[short], dtype=object).reindex(written.index)


def roofline_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Layer rows that did arithmetic: achieved GMAC/s, arithmetic intensity (MAC per byte moved) and GB/s."""
    layers = frame[(frame["kind"] == "layer") & (frame["latency_ms"] > 0) & (frame["flops"] > 0)].copy()
    moved = layers[["input_bytes", "output_bytes", "weight_bytes"]].astype(float).fillna(0).sum(axis=1)
    layers = layers[moved > 0]
    moved = moved[moved > 0]
    seconds = layers["latency_ms"].astype(float) / 1e3
    layers["gmac_s"] = layers["flops"].astype(float) / seconds / 1e9
    layers["mac_per_byte"] = layers["flops"].astype(float) / moved
    layers["gb_s"] = moved / seconds / 1e9
    return layers


@literal_text()
def roofline(frame: pd.DataFrame):
    """(figure or None, note, peaks): every layer's achieved GMAC/s against its arithmetic intensity, per
    device, under the roof drawn from the device's measured peaks: the highest compute rate and the highest
    memory rate any of its layers reached in these data (not a datasheet figure). Peaks are every device's;
    past MAX_ROOFLINES devices, those with the most layer rows on it are drawn, ROOFLINE_COLUMNS to a row."""
    points = roofline_points(frame)
    if points.empty:
        return None, "no layer rows with multiply-accumulates: no roofline to draw", {}
    named = points["device_name"].astype(object).where(points["device_name"].notna(), UNKNOWN_DEVICE)
    by_device = {device: rows for device, rows in points.groupby(named.astype(str), sort=True)}
    peaks = {}
    for device, rows in by_device.items():
        best = rows.loc[rows["gmac_s"].idxmax()]
        peaks[device] = {
            "gmac_s": float(rows["gmac_s"].max()),
            "gb_s": float(rows["gb_s"].max()),
            "best_layer": f"{best['model']} {best['layer_name']} ({best['op']})",
        }
    most = sorted(by_device, key=lambda device: (-len(by_device[device]), device))[:MAX_ROOFLINES]
    devices = sorted(most)
    styles = op_styles(frame)
    columns = min(len(devices), ROOFLINE_COLUMNS)
    lines = -(-len(devices) // columns)
    figure = new_figure(figsize=(8 * columns, 5.5 * lines))
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    for axis in axes[len(devices) :]:
        axis.remove()
    for axis, device in zip(axes, devices):
        rows = by_device[device]
        peak_gmac_s, peak_gb_s = peaks[device]["gmac_s"], peaks[device]["gb_s"]
        for op, part in rows.groupby(rows["op"].astype(str), sort=True):
            axis.scatter(part["mac_per_byte"], part["gmac_s"], s=14, alpha=0.8, label=op, **styles[op])
        low = float(rows["mac_per_byte"].min()) / 2
        high = float(rows["mac_per_byte"].max()) * 2
        intensity = np.geomspace(low, high, 200)
        axis.plot(
            intensity,
            np.minimum(peak_gmac_s, peak_gb_s * intensity),
            color="black",
            linewidth=1.4,
            label=f"measured roof: {peak_gmac_s:.3g} GMAC/s, {peak_gb_s:.3g} GB/s",
        )
        axis.set_xscale("log")
        axis.set_yscale("log")
        plain_log_labels(axis.xaxis)
        plain_log_labels(axis.yaxis)
        axis.set_xlabel("arithmetic intensity (MAC per byte moved: inputs + outputs + weights)")
        axis.set_ylabel("achieved (GMAC/s)")
        axis.set_title(f"{device}: {len(rows)} layers", fontsize=10)
        axis.grid(True, which="both", alpha=0.25)
        axis.legend(fontsize=7, loc="lower right", ncol=2 if rows["op"].nunique() > 12 else 1)
    figure.tight_layout()
    shown = (
        f"The {len(devices)} devices with the most layer rows, of {len(by_device)}, are drawn; the table gives "
        "every device's peaks."
        if len(devices) < len(by_device)
        else ""
    )
    return figure, " ".join(part for part in (shown, _left_off_roofline(frame, points)) if part), peaks


def _left_off_roofline(frame: pd.DataFrame, points: pd.DataFrame) -> str:
    """Which layer rows the roofline leaves out, named by op: a reader looks for them in the plot."""
    left_off = frame[frame["kind"] == "layer"].drop(index=points.index)
    without_macs = left_off["flops"].fillna(0) <= 0
    parts = [
        f"{int(rows.sum())} layer rows {why} have no place on it: {_ops(left_off[rows])}"
        for rows, why in (
            (without_macs, "without multiply-accumulates"),
            (~without_macs, "with no time or no bytes moved recorded"),
        )
        if rows.any()
    ]
    return "; ".join(parts) + "." if parts else ""


def _ops(rows: pd.DataFrame) -> str:
    counts = rows["op"].astype(str).value_counts().sort_index()
    return ", ".join(f"{op} ({count})" for op, count in counts.items())


@literal_text()
def against_batch_size(frame: pd.DataFrame, column: str, label: str):
    """(figure or None, note): each network's `column` against its batch size, one line per network and
    sequence length and device (and dtype, layout, compilation, thread count), each named where there are several."""
    frame, settings = with_devices(frame)
    networks = frame[(frame["kind"] == "network") & frame[column].notna() & (frame[column] > 0)]
    if networks.empty:
        return None, f"no network row has {label.split(' (')[0]}"
    several = frame["source"].nunique() > 1
    keys = ["source", "model", "seq_len", *settings]
    series = networks.groupby(keys, sort=True)
    names = [_line_name(dict(zip(keys, key)), several, settings) for key in series.groups]
    styles = distinct_styles(names)
    figure = new_figure(figsize=(8, 4.8))
    axis = figure.subplots()
    hollow_drawn = merged = False
    for name, (_, group) in zip(names, series):
        style = styles[name]
        if column != "latency_ms":  # only latency is measured with an interval
            group = group.groupby("batch_size")[column].median().sort_index()
            axis.plot(group.index.astype(int), group.to_numpy(), linewidth=1.0, label=name, **style)
            continue
        spread = measured_spread(group, ["batch_size"]).sort_index()
        sizes, values = spread.index.astype(int), spread["latency_ms"].to_numpy(dtype=float)
        hollow = spread["unbounded"].to_numpy(dtype=bool)
        merged = merged or bool(spread["runs"].gt(1).any())
        axis.plot(sizes, values, linewidth=1.0, label=name, markevery=list(~hollow), **style)
        low, high = (spread[bound].to_numpy(dtype=float) for bound in BOUNDS)
        axis.errorbar(sizes, values, yerr=_error(values, low, high), fmt="none", ecolor=style["color"])
        if hollow.any():
            axis.scatter(
                sizes[hollow],
                values[hollow],
                marker=style["marker"],
                facecolors="none",
                edgecolors=style["color"],
                zorder=3,
            )
            hollow_drawn = True
    if hollow_drawn:  # one legend entry for every series' hollow markers
        axis.scatter([], [], marker="o", facecolors="none", edgecolors="grey", label="too few samples: no interval")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    sizes = networks["batch_size"].astype(float)
    plain_log_ticks(axis.xaxis, sizes.min(), max(sizes.max(), 2 * sizes.min()))
    plain_log_labels(axis.yaxis)
    axis.set_xticks(sorted(sizes.unique()))
    axis.set_xlabel("batch size")
    axis.set_ylabel(label)
    axis.grid(True, which="both", alpha=0.25)
    if len(names) <= MAX_LEGEND:
        axis.legend(fontsize=7)
    figure.tight_layout()
    notes = (
        []
        if len(names) <= MAX_LEGEND
        else [f"{len(names)} networks: too many to name in a legend; the table below names each"]
    )
    if column == "latency_ms":
        notes.append("bars are each median's 95% interval")
        notes += [RUNS_NOTE] if merged else []
        notes += [UNBOUNDED_NOTE] if hollow_drawn else []
    return figure, "; ".join(notes)


def _line_name(row: dict, several_sources: bool, settings: list[str]) -> str:
    name = _named(_model_name(row), row, settings)
    return f"{name} [{row['source']}]" if several_sources else name


@literal_text()
def trace(frame: pd.DataFrame, title: str, figsize: tuple[float, float] = (10, 4.2)):
    """The power trace, idle and load windows shaded (hwprof.plotting.draw_trace); a trace whose samples pause
    for long (runs merged from minutes apart) gets one panel per stretch (trace_stretches), watts on one scale."""
    from hwprof.plotting import draw_trace, trace_stretches

    stretches = trace_stretches(frame)
    figure = new_figure(figsize=(figsize[0], figsize[1] * (1 + 0.6 * (len(stretches) - 1))))
    axes = figure.subplots(len(stretches), 1, squeeze=False, sharey=True)[:, 0]
    first_s = float(frame["timestamp_s"].min())
    for number, (axis, stretch) in enumerate(zip(axes, stretches), start=1):
        after_s = float(stretch["timestamp_s"].min()) - first_s
        where = f" (part {number} of {len(stretches)}, {after_s:.0f} s into the trace)" if len(stretches) > 1 else ""
        draw_trace(axis, stretch, title + where)
    figure.tight_layout()
    return figure
