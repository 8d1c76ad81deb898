"""What every command shares: the console, progress drawing, and number formatting."""

from __future__ import annotations

import math
import re
import sys

import click

from hwprof.progress import Progress, duration_text

# fit, evaluate and report trace a dataset's network rows that name a Python file only when told (fitting.data)
run_model_files_option = click.option(
    "--run-model-files",
    is_flag=True,
    help="Import and run the Python files (file.py:factory) that network rows without layer rows name, "
    "to trace them: only for datasets you trust.",
)


def make_console(stderr: bool = False):
    """Rich output (on stderr for progress and notes, so stdout holds only the results); wide enough for the
    tables when writing to a file or pipe. What hwprof prints is text: paths such as runs[v2]/a.parquet are not
    read as markup, nor numbers in notes recoloured; and no table cuts a number short (uncut)."""
    from rich.console import Console
    from rich.table import Table

    class PipedConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError  # the command line exits as a shell's SIGPIPE does, not with rich's 1

        def print(self, *objects, **kwargs) -> None:
            objects = [printable(o) if isinstance(o, str) else o for o in objects]
            objects = [uncut(printable_table(o), self) if isinstance(o, Table) else o for o in objects]
            if any(isinstance(o, Table) and overflowed(o, self) for o in objects):
                kwargs.setdefault("crop", False)
            super().print(*objects, **kwargs)

    stream = sys.stderr if stderr else sys.stdout
    # emoji=False: model names such as hf:llama:... are text, not :llama: emoji codes
    width = {} if stream is not None and stream.isatty() else {"width": 160}
    return PipedConsole(emoji=False, markup=False, highlight=False, stderr=stderr, **width)


# C0 controls but tab and newline, DEL and C1: what a terminal acts on (ESC starts colours, titles and cursor moves,
# \r and BEL redraw and ring), written as \xNN so that a name taken from a dataset is shown, never obeyed.
_CONTROLS = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if code not in (0x09, 0x0A)}
_CONTROLS_AND_NEWLINE = {**_CONTROLS, 0x0A: "\\x0a"}


def printable(text: str, newlines: bool = True) -> str:
    """`text` with the control characters a terminal would act on escaped (ESC as \\x1b): strings from a dataset
    (model, layer and device names, provenance) are printed as data, never as escape sequences. `newlines=False`
    escapes newlines too, for text printed within one line."""
    return text.translate(_CONTROLS if newlines else _CONTROLS_AND_NEWLINE)


def printable_table(table):
    """`table` with printable() applied to its title, headers and text cells: every table hwprof prints goes
    through make_console's print, so a dataset's names reach the terminal escaped whichever command shows them."""
    for attribute in ("title", "caption"):
        if isinstance(getattr(table, attribute, None), str):
            setattr(table, attribute, printable(getattr(table, attribute)))
    for column in table.columns:
        if isinstance(column.header, str):
            column.header = printable(column.header)
        cells = getattr(column, "_cells", None)  # rich's own list (private: a rich without it keeps its cells)
        if cells is not None:
            cells[:] = [printable(cell) if isinstance(cell, str) else cell for cell in cells]
    return table


# a word a fold would misread as another number: 13.792, +1234.9%, (71, 1.2e-05, 3x
_NUMBER = re.compile(r"[^\sA-Za-z]*\d[^\sA-Za-z]*(?:[eE][-+]?\d+)?x?")


def uncut(table, console):
    """`table` with every cell wrapped, a word too long for its column folded onto the next line, where rich
    would cut it to "13.7…", except a number: a number cut short, or folded, reads as another number. Too wide for
    `console`, its widest columns are narrowed first, not below their longest word while the others' fit (rich's own
    narrowing folds numbers in a table that had room for them whole), else the longest words (a zoo model's name, a
    header) fold first; never a column below its widest number: a table that cannot fit then runs past the
    console's width (overflowed), as a terminal wraps a long line, rather than drawing a column without its
    figures."""
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    try:  # rich's own measures (private: a rich without them leaves the narrowing to rich, still folding)
        ranges = [table._measure_column(console, console.options, column) for column in table.columns]
        room = console.options.max_width - table._extra_width
        least = [
            max(_widest_number(column), 1) + table._get_padding_width(index)
            for index, column in enumerate(table.columns)
        ]
    except AttributeError:
        return table
    if sum(r.maximum for r in ranges) <= room:
        return table

    def widths(floor: int, cap: int) -> list[int]:
        return [max(low, min(r.minimum, floor), min(r.maximum, cap)) for r, low in zip(ranges, least)]

    floor = max(r.minimum for r in ranges)
    while floor > 1 and sum(widths(floor, 1)) > room:
        floor -= 1
    cap = max(r.maximum for r in ranges)
    while cap > 1 and sum(widths(floor, cap)) > room:
        cap -= 1
    chosen = widths(floor, cap)
    for index, (column, r, width) in enumerate(zip(table.columns, ranges, chosen)):
        if width < r.maximum:
            column.max_width = max(width - table._get_padding_width(index), 1)
    if sum(chosen) > room:
        table.width = sum(chosen) + table._extra_width
    return table


def overflowed(table, console) -> bool:
    """Whether uncut made `table` wider than `console`: its lines are printed whole, not cropped at the edge."""
    return table.width is not None and table.width > console.options.max_width


def _widest_number(column) -> int:
    """The width of the longest number among `column`'s body cells (0 where none holds one)."""
    from rich.cells import cell_len

    cells = getattr(column, "_cells", [])  # rich's own list (private: a rich without it narrows as before)
    words = (word for cell in cells for word in str(getattr(cell, "plain", cell)).split())
    return max((cell_len(word) for word in words if _NUMBER.fullmatch(word)), default=0)


JSON_PIECE = 1 << 16  # characters of a --json document written at a time: a pipe's buffer


def echo_json(document, indent: int | None = 2) -> None:
    """`document` as JSON on stdout, in pieces, each flushed: handed to a pipe at once, a document larger than the
    pipe's buffer was written only up to it, the rest dropped without an error when its reader left (`show --json
    | head -c 10` exited 0); in pieces, the write after the reader left fails, and the command exits as SIGPIPE.
    It goes to the real stdout, past what JsonAloneStdout sends to stderr."""
    import json

    stream = getattr(sys.stdout, "results", sys.stdout)
    text = json.dumps(document, indent=indent)
    for start in range(0, len(text), JSON_PIECE):
        click.echo(text[start : start + JSON_PIECE], nl=False, file=stream)  # click.echo flushes each
    click.echo(file=stream)


def json_given(command, name: str, args: list[str], parent) -> bool:
    """Whether `args` give `command` its --json, read before it runs from a parse of them that fails on nothing
    (as click's completion parses), so that the decision is one for the whole command: a thread the user's model
    starts (a data loader's worker, a logging thread) has no click context of its own to read it from."""
    if "--json" not in args:
        return False
    with command.make_context(name, list(args), parent=parent, resilient_parsing=True) as ctx:
        return any("--json" in p.opts and ctx.params.get(p.name) for p in command.params)


class JsonAloneStdout:
    """sys.stdout while a command runs: given --json (`asked`, set once the command is known, json_given), whatever
    is printed but the JSON (a print in a user's model file, as it is imported, built, traced or timed, from any
    thread) goes to stderr, so that stdout parses as the JSON document; without --json, everything goes to stdout as
    before. `results` is the real stdout, which echo_json writes to."""

    def __init__(self, results) -> None:
        self.results = results
        self.asked = False

    def _target(self):
        return sys.stderr if self.asked else self.results

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        return self._target().flush()


def number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}"


def percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def make_progress(silent: bool) -> Progress:
    """Only the warnings when silent (--quiet hides progress, not what the user should know), a bar on a
    terminal, plain lines (readable in CI logs) otherwise."""
    if silent:
        return _WarningsOnly()
    if sys.stderr.isatty():
        return _RichProgress()
    return _PlainProgress()


class _WarningsOnly(Progress):
    """--quiet: no progress, but each warning (power unavailable, a sensor stopped) on stderr, as fit --quiet
    gives its warnings."""

    def warn(self, text):
        click.echo(text, err=True)


def position_text(group: int, groups: int, left_s: float | None) -> str:
    """3 of 12, about 2 min 10 s left: where a long measure run is, for a user (or a CI log) watching it."""
    return f"{group} of {groups}" + ("" if left_s is None else f", about {duration_text(left_s)} left")


class _Placed(Progress):
    """A progress that names each group's place in the run (position), once, with the group it announces."""

    where = ""

    def position(self, group, groups, left_s):
        self.where = f" ({position_text(group, groups, left_s)})" if groups > 1 else ""

    def placed(self) -> str:
        """The place to show with the group starting now; the layer sweep's groups that follow have none."""
        where, self.where = self.where, ""
        return where


class _PlainProgress(_Placed):
    """One line per event: readable in CI logs."""

    def group(self, model, batch_size, items):
        click.echo(f"measuring {model} batch {batch_size}: {items} items{self.placed()}", err=True)

    def item_done(self, label, latency_ms, stable):
        click.echo(f"  {label}: {latency_ms:.4f} ms{'' if stable else ' (not stable)'}", err=True)

    def note(self, text):
        click.echo(text, err=True)


class _RichProgress(_Placed):
    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=make_console(stderr=True),  # as the plain lines go: stdout is the results
            transient=False,
        )
        self.bar.start()
        self.task = None

    def group(self, model, batch_size, items):
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[self.task].total)
        self.task = self.bar.add_task(f"{model} batch {batch_size}{self.placed()}", total=items)

    def item_done(self, label, latency_ms, stable):
        self.bar.advance(self.task)

    def note(self, text):
        self.bar.console.print(text, markup=False)

    def stop(self):
        self.bar.stop()


def existing_tegrastats(context, parameter, value):
    """--tegrastats: a path given must be a file, said in one sentence (click's own check prints its usage)."""
    from pathlib import Path

    from hwprof.errors import HwprofError

    if value is not None and not Path(value).is_file():
        raise HwprofError(
            f"--tegrastats {value}: no such file; give the path of the tegrastats program, or leave the option out"
        )
    return value


def refuse_empty(option: str, value: str | None, hint: str) -> None:
    """An empty value is a variable lost in a script, not the option left out: taken as left out it would run with
    the default unsaid, so it is refused in one sentence ending in `hint` (what to give instead)."""
    from hwprof.errors import HwprofError

    if value is not None and not value.strip():
        raise HwprofError(f"{option} is empty: {hint}, or drop it")


def refuse_model_empties(input_shape: str | None, hf_config: str | None, seq_lens: str | None) -> None:
    """measure and predict take a model the same way, so an empty --input-shape, --hf-config or --seq-len is refused
    the same way in both."""
    refuse_empty("--input-shape", input_shape, "give the input shape without the batch, e.g. 3,224,224")
    refuse_empty("--hf-config", hf_config, "give overrides, e.g. num_hidden_layers=4,hidden_size=256")
    refuse_empty("--seq-len", seq_lens, "give sequence lengths, e.g. 128,512")
