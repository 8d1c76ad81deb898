"""What every hwprof plot shares: figures made apart from pyplot, text drawn as written, colours that tell
ops apart, axis labels with units, shaded measurement windows, and the one way a figure reaches disk or a
report.

matplotlib loads only when a plot is drawn, so importing this module costs nothing. It is first imported here,
with a writable folder for its settings and font cache (_import_matplotlib).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hwprof.errors import HwprofError
from hwprof.files import write_atomically
from hwprof.schema import METRIC_LABELS

UNITS = ("ms", "s", "W", "mJ", "J", "MB")
WINDOW_COLOURS = {"idle": "#4c9f70", "load": "#e8a33d"}  # green for idle, amber for load
MINOR_LABEL_GAP = 0.12  # the least distance between two labels of a log axis, as a share of its span
GAP_PERIODS = 5  # a pause in a trace longer than this many sample periods is a gap in the data
LONG_PAUSE_S = 30.0  # a pause in a trace this long, and longer than what came before it, starts a panel of its own
MAX_TRACE_PANELS = 6  # panels a trace is cut into at most; past it, one time axis
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


def _import_matplotlib() -> None:
    """Import matplotlib with a folder it can write: where its default folder cannot be (a read-only HOME in a
    container) and MPLCONFIGDIR is unset, a temporary one, so that it neither warns twice nor fails the command
    where the temp dir is read-only too. That case is one sentence naming MPLCONFIGDIR; a user's MPLCONFIGDIR is
    left as it is."""
    if "matplotlib" in sys.modules or os.environ.get("MPLCONFIGDIR"):
        return
    unwritable = [folder for folder in _matplotlib_folders() if not _writable(folder)]
    if unwritable:
        try:
            folder = tempfile.mkdtemp(prefix="hwprof-matplotlib-")
        except OSError:
            default = unwritable[0] or "your home folder"
            raise HwprofError(
                f"matplotlib, which draws the figures, needs a writable folder for its settings and font cache, "
                f"and neither {default} nor a temporary folder can be written: set MPLCONFIGDIR to a writable "
                "folder"
            ) from None
        os.environ["MPLCONFIGDIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    import matplotlib  # noqa: F401  (reads its folder now)


def _matplotlib_folders() -> list[Path | None]:
    """The folders matplotlib writes when MPLCONFIGDIR is unset (its config and cache folders); None for one
    under a home folder that cannot be found."""
    try:
        home = Path.home()
    except RuntimeError:
        return [None]
    if sys.platform.startswith(("linux", "freebsd")):
        config = os.environ.get("XDG_CONFIG_HOME") or home / ".config"
        cache = os.environ.get("XDG_CACHE_HOME") or home / ".cache"
        return [Path(config, "matplotlib"), Path(cache, "matplotlib")]
    if sys.platform == "win32" and not (home / ".matplotlib").is_dir() and os.environ.get("LOCALAPPDATA"):
        return [Path(os.environ["LOCALAPPDATA"], "matplotlib")]
    return [home / ".matplotlib"]


def _writable(folder: Path | None) -> bool:
    """Whether matplotlib can use `folder`, tested as it tests it: made where missing, then checked writable."""
    if folder is None:
        return False
    try:
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK) and folder.is_dir()


def new_figure(**options):
    """A matplotlib Figure drawn by Agg (no display needed), made without pyplot: a caller's backend is left
    as it was, and pyplot holds no reference to the figure, so one drawn in a loop is freed with its last
    reference. `options` are Figure's (figsize, layout)."""
    _import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure


@contextlib.contextmanager
def literal_text():
    """Text made or drawn inside is drawn as it is written, and the caller's rcParams are theirs again after:
    names of models, files and spaces reach titles, labels and legends, and a `$` in one is not mathtext (an
    odd count of them failed the figure, an even one was rewritten). It wraps every function that makes a
    figure (a text keeps the setting it was made with) and every save (some ticks are made as they are drawn).
    No label of hwprof's uses mathtext; log axes take plain_log_ticks or plain_log_labels, as the default log
    ticks are mathtext."""
    _import_matplotlib()
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        yield


def axis_label(metric: str, prefix: str = "") -> str:
    """ "latency_ms" -> "latency (ms)", from schema.METRIC_LABELS; "latency_ms_layer_sum" -> "latency (ms),
    layer sum"; an unknown name is shown as it is."""
    base = next((key for key in METRIC_LABELS if metric.startswith(key + "_")), None)
    if base is not None:
        return f"{axis_label(base, prefix)}, {metric[len(base) + 1 :].replace('_', ' ')}"
    words = METRIC_LABELS.get(metric, metric).split()
    if len(words) > 1 and words[-1] in UNITS:
        text = f"{' '.join(words[:-1])} ({words[-1]})"
    else:
        text = " ".join(words)
    return f"{prefix} {text}".strip()


def distinct_styles(keys) -> dict:
    """A colour and marker per key, no two keys alike: tab20's colours while they last, then the markers
    change too, so 30 op types are still 30 different-looking series. tab20 holds a dark and a light shade
    of each hue side by side; its dark ones (tab10) come first and the light ones after, so keys next to each
    other (ops by name, side by side in a legend) never share a hue."""
    _import_matplotlib()
    import matplotlib

    keys = list(dict.fromkeys(keys))
    shades = matplotlib.colormaps["tab20"].colors
    palette = shades[0::2] + shades[1::2]
    return {
        key: {"color": palette[i % len(palette)], "marker": MARKERS[(i // len(palette)) % len(MARKERS)]}
        for i, key in enumerate(keys)
    }


def plain_log_ticks(axis, low: float, high: float) -> None:
    """Tick labels of a log axis as plain numbers (0.5, 2, 10) instead of powers; minor ones too within a decade,
    those that stand apart (spaced_minor_ticks): 0.08 and 0.09 labelled beside 0.1 ran together."""
    _import_matplotlib()
    from matplotlib.ticker import FormatStrFormatter, FuncFormatter, NullFormatter

    axis.set_major_formatter(FormatStrFormatter("%g"))
    if high / low >= 10:
        axis.set_minor_formatter(NullFormatter())
        return
    labelled = spaced_minor_ticks(low, high)
    axis.set_minor_formatter(
        FuncFormatter(lambda x, pos=None: f"{x:g}" if any(math.isclose(x, t, rel_tol=1e-6) for t in labelled) else "")
    )


def spaced_minor_ticks(low: float, high: float) -> list[float]:
    """The minor ticks (2, 3, ... 9 times a power of ten) within [low, high] to label, each at least
    MINOR_LABEL_GAP of the axis's span from every other label, the round ones (2, 5) chosen first."""
    span = math.log10(high / low)
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    labelled = [10.0**decade for decade in decades if low <= 10.0**decade <= high]  # the majors are labelled
    majors = len(labelled)
    for mantissa in (2, 5, 3, 4, 6, 7, 8, 9):
        for decade in decades:
            tick = mantissa * 10.0**decade
            if low <= tick <= high and all(abs(math.log10(tick / t)) >= MINOR_LABEL_GAP * span for t in labelled):
                labelled.append(tick)
    return sorted(labelled[majors:])


def plain_log_labels(axis) -> None:
    """The ticks matplotlib labels on a log axis (minor ones too where it spans few decades), labelled 0.2
    and 1000: its own labels are mathtext, which literal_text() turns off, and its plain ones read 2e-01."""
    _import_matplotlib()
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False))


def shade_windows(axes, frame, origin_s: float) -> int:
    """Shade each idle and load window of a trace (hwprof.traces columns) on `axes`, with times
    relative to `origin_s`; returns how many windows were shaded (0 for a trace without window columns)."""
    if "window" not in frame.columns:
        return 0
    windows = frame.dropna(subset=["window", "window_start_s", "window_stop_s"])
    windows = windows[["window", "window_start_s", "window_stop_s"]].drop_duplicates()
    labelled = set()
    for kind, start_s, stop_s in windows.itertuples(index=False):
        axes.axvspan(
            start_s - origin_s,
            stop_s - origin_s,
            color=WINDOW_COLOURS.get(kind, "grey"),
            alpha=0.18,
            linewidth=0,
            label=f"{kind} window" if kind not in labelled else None,
            zorder=0,
        )
        labelled.add(kind)
    return len(windows)


def draw_trace(axes, frame, title: str) -> None:
    """Watts against seconds, one line per sensor (per sensor and run where runs of one sensor name overlap in
    time: two boards of a merged fleet trace), idle and load windows shaded where the trace has them."""
    origin_s = float(frame["timestamp_s"].min())
    lines = _trace_lines(frame)
    styles = distinct_styles(sorted(lines.unique()))
    for name, group in frame.groupby(lines, sort=True):
        group = group.sort_values("timestamp_s")
        seconds, watts = broken_at_gaps(
            group["timestamp_s"].to_numpy(dtype=float) - origin_s, group["power_w"].to_numpy(dtype=float)
        )
        axes.plot(
            seconds,
            watts,
            label=name,
            linewidth=0.9,
            color=styles[name]["color"],
        )
    shaded = shade_windows(axes, frame, origin_s)
    axes.set_xlabel("time since first sample (s)")
    axes.set_ylabel("power (W)")
    axes.set_title(title if shaded else f"{title} (windows not recorded in this trace)")
    axes.grid(True, alpha=0.3)
    # beside the plot, not on it: a trace is dense to its last sample, which any place inside would cover
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize="small")


def _trace_lines(frame):
    """Each sample's line: its sensor, or its sensor and run where that sensor's runs overlap in time (samples
    of two boards read as one line would zigzag between them); runs one after another share their sensor's line."""
    sensors = frame["sensor"].astype(str)
    if "run_id" not in frame.columns or frame["run_id"].nunique() < 2:
        return sensors
    runs = frame["run_id"].astype(str)
    spans = frame.groupby([sensors, runs])["timestamp_s"].agg(["min", "max"]).sort_values("min")
    overlapping = {
        sensor
        for sensor, span in spans.groupby(level=0)
        if (span["min"].to_numpy()[1:] < span["max"].cummax().to_numpy()[:-1]).any()
    }
    split = sensors.isin(overlapping)
    return sensors.where(~split, sensors + " (run " + runs.str[:8] + ")")


def trace_stretches(frame) -> list:
    """The trace cut where its samples pause for longer than LONG_PAUSE_S and than all drawn before the pause
    (runs merged from minutes or hours apart), each stretch apart: on one time axis a long pause squeezed each
    run's windows into slivers. One stretch (the whole trace) where there are more than MAX_TRACE_PANELS."""
    import numpy as np

    times = frame["timestamp_s"].to_numpy(dtype=float)
    order = np.argsort(times, kind="stable")
    times = times[order]
    starts = [0]
    for index in np.flatnonzero(np.diff(times) > LONG_PAUSE_S) + 1:
        if times[index] - times[index - 1] > times[index - 1] - times[starts[-1]]:
            starts.append(int(index))
    if not 1 < len(starts) <= MAX_TRACE_PANELS:
        return [frame]
    return [frame.iloc[order[start:stop]] for start, stop in zip(starts, [*starts[1:], len(times)])]


def broken_at_gaps(seconds, watts):
    """(seconds, watts) with a NaN wherever the samples stop for more than GAP_PERIODS of their usual period
    (between windows, or while nothing was measured), so the line breaks there instead of drawing a ramp no
    sensor read."""
    import numpy as np

    steps = np.diff(seconds)
    if not (steps > 0).any():
        return seconds, watts
    gaps = np.flatnonzero(steps > GAP_PERIODS * np.median(steps[steps > 0])) + 1
    return np.insert(seconds, gaps, np.nan), np.insert(watts, gaps, np.nan)


def save_figure(figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Write `figure` atomically in the format its suffix names (png, pdf, svg); a full disk or a lost folder
    is one sentence naming the file."""
    path = Path(path)
    try:
        with literal_text():
            return write_atomically(
                path, lambda temporary: figure.savefig(temporary, dpi=dpi, format=path.suffix[1:].lower())
            )
    except OSError as error:
        raise HwprofError(f"cannot write {path}: {error.strerror or error}") from None


def png_bytes(figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, for embedding."""
    buffer = io.BytesIO()
    with literal_text():
        figure.savefig(buffer, dpi=dpi, format="png")
    return buffer.getvalue()
