"""The `hwprof` command: a click group whose subcommands load on first use.

Loading lazily keeps `hwprof --help` instant (no torch import) and lets each
area keep its commands in its own module.
"""

import codecs
import contextlib
import importlib
import os
import re
import signal
import sys
import traceback

import click

from hwprof.errors import HwprofError, is_out_of_memory, warnings_as_notes
from hwprof.interrupts import Interrupted, sigterm_interrupts
from hwprof.progress import bytes_text

__all__ = ["Interrupted", "main"]


# command name -> ("module:attribute", one-line help shown by `hwprof --help` without importing it)
COMMANDS = {
    "measure": ("hwprof.cli.measure:measure", "Measure layer and network latency (and power) of models."),
    "models": ("hwprof.cli.measure:models", "List the sample models and their input shapes."),
    "merge": ("hwprof.cli.dataset:merge", "Combine datasets from several runs or boards."),
    "show": ("hwprof.cli.dataset:show", "Summarise a saved dataset: networks, slowest layers, power, runs."),
    "compare": ("hwprof.cli.compare:compare", "Compare two runs row by row, with significance; a CI gate."),
    "devices": ("hwprof.cli.devices:devices", "List devices and power sensors, and why any is unusable."),
    "plot-trace": ("hwprof.cli.devices:plot_trace", "Draw a power trace (measure or run --trace), windows shaded."),
    "fit": ("hwprof.cli.fit:fit", "Fit latency, power and energy predictors from datasets."),
    "predict": ("hwprof.cli.fit:predict", "Predict the cost of models with a fitted predictor."),
    "evaluate": ("hwprof.cli.fit:evaluate", "Score a predictor against measured datasets."),
    "search": ("hwprof.cli.search:search", "Search a space under predicted hardware budgets."),
    "run": ("hwprof.cli.run:run", "Run a command and measure its wall time, energy and idle baseline."),
    "report": ("hwprof.cli.report:report", "Write one self-contained HTML report of datasets (and a predictor)."),
}


JSON_ALONE_STDOUT = "hwprof.json_alone_stdout"  # the command's stdout, in its context's meta (LazyGroup.invoke)


# what a stream whose encoding cannot carry a character (PYTHONIOENCODING=ascii) shows instead: '?' for the rest
ASCII_STAND_INS = {"\N{HORIZONTAL ELLIPSIS}": "...", "\N{PLUS-MINUS SIGN}": "+/-", "\N{MULTIPLICATION SIGN}": "x"}


def _stand_in(error: UnicodeEncodeError) -> tuple[str, int]:
    return "".join(ASCII_STAND_INS.get(c, "?") for c in error.object[error.start : error.end]), error.end


def _stand_in_or_byte(error: UnicodeEncodeError) -> tuple[bytes, int]:
    """A surrogate standing for an undecodable byte (a file name's, under the C locale) writes that byte back, as
    surrogateescape would; any other character the encoding cannot carry gets its stand-in."""
    written = (
        bytes([ord(c) - 0xDC00]) if 0xDC80 <= ord(c) <= 0xDCFF else ASCII_STAND_INS.get(c, "?").encode("ascii")
        for c in error.object[error.start : error.end]
    )
    return b"".join(written), error.end


codecs.register_error("hwprof-stand-in", _stand_in)
codecs.register_error("hwprof-stand-in-or-byte", _stand_in_or_byte)
# a stream's error handler -> the one that writes stand-ins in its place: Python opens stdout with surrogateescape
# under the C or POSIX locale (ASCII) and in UTF-8 mode, strict where PYTHONIOENCODING names an encoding
STAND_IN_HANDLERS = {"strict": "hwprof-stand-in", "surrogateescape": "hwprof-stand-in-or-byte"}


def usable_streams() -> None:
    """A closed stdout or stderr (`hwprof show A >&-`) discards what is written to it, as a closed pipe would,
    rather than failing after the work is done, and its descriptor is not handed to the next file opened; and
    text the stream's encoding cannot carry is written with stand-ins, not refused halfway through a table."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:
            _devnull_onto(fd)
            setattr(sys, name, open(fd, "w", closefd=False))
        stream = getattr(sys, name)
        handler = STAND_IN_HANDLERS.get(getattr(stream, "errors", None))
        if handler is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=handler)


class StdoutUnwritable(HwprofError):
    """The standard output refused a write: a full disk (`hwprof models >/dev/full`), an I/O error."""


class _WordedStdout:
    """sys.stdout while a command runs, whose write errors are one sentence, not a bug: a closed pipe stays a
    BrokenPipeError, which exits as a shell's SIGPIPE does."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text):
        return self._worded(self._stream.write, text)

    def flush(self):
        return self._worded(self._stream.flush)

    @staticmethod
    def _worded(call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise StdoutUnwritable(f"cannot write to the standard output: {error.strerror or error}") from None


def worded_stdout_errors():
    """Inside the block, sys.stdout's write errors are StdoutUnwritable."""
    return _stdout_as(_WordedStdout(sys.stdout))


@contextlib.contextmanager
def _stdout_as(stream):
    """Inside the block, sys.stdout is `stream`; the one before is put back after."""
    was = sys.stdout
    sys.stdout = stream
    try:
        yield
    finally:
        sys.stdout = was


def _discard_stdout() -> None:
    """Nothing more reaches a stdout that failed, not even at exit (where Python would report it again)."""
    try:
        fileno = sys.stdout.fileno()
    except (OSError, ValueError):  # a stream of an embedding program's, with no descriptor to replace
        return
    _devnull_onto(fileno)


def _devnull_onto(fd: int) -> None:
    """Descriptor `fd` writes to the null device from now on (a closed one is opened there as it)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


_ASKED = re.compile(r"tried to allocate (\d+) bytes|tried to allocate ([\d.]+ ?[KMGT]?i?B)\b", re.IGNORECASE)


def out_of_memory(error: BaseException, command: str | None) -> str | None:
    """The sentence for an allocation that failed (MemoryError, torch.OutOfMemoryError or a CPU allocator's
    RuntimeError): the input's size, not a bug in hwprof; None for any other error."""
    if not is_out_of_memory(error):
        return None
    found = _ASKED.search(str(error))
    asked = ""
    if found and found.group(1):
        asked = f" ({bytes_text(int(found.group(1)))} asked for at once)"
    elif found:
        asked = f" ({found.group(2)} asked for at once)"
    where = f"`hwprof {command}`" if command else "hwprof"
    return (
        f"out of memory while running {where}{asked}; try a smaller --batch-size or a smaller model, or give it more "
        "memory: other processes, a container's memory limit or `ulimit -v` may leave less than the machine has"
    )


def _reporting_interrupt(error: BaseException) -> KeyboardInterrupt | None:
    """The interrupt a write error arose while reporting: a SIGHUP's terminal is gone, and the lines that say
    what was kept fail (EIO) after the rows are safe."""
    if not isinstance(error, (OSError, StdoutUnwritable)):
        return None
    context = error.__context__
    while context is not None and not isinstance(context, KeyboardInterrupt):
        context = context.__context__
    return context


def _exit_unheard(ctx, interrupt: KeyboardInterrupt):
    """Exit with the interrupt's status where the streams take no more writes: they write to the null device
    from now on, so that Python's flush at exit does not fail once more (and exit 120)."""
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            _devnull_onto(fd)
    ctx.exit(128 + getattr(interrupt, "signum", signal.SIGINT))


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def resolve_command(self, ctx, args):
        """The subcommand, with whether it was given --json decided for the stdout invoke() set (JsonAloneStdout)."""
        from hwprof.cli.common import json_given

        name, command, rest = super().resolve_command(ctx, args)
        stdout = ctx.meta.get(JSON_ALONE_STDOUT)
        if stdout is not None and command is not None:
            stdout.asked = json_given(command, name, rest, ctx)
        return name, command, rest

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])

    def main(self, *args, **kwargs):
        """The group's own --help and --version print before any command is invoked: a stdout they cannot write
        to (`hwprof --help >/dev/full`) is one sentence too, not a traceback."""
        usable_streams()
        try:
            with worded_stdout_errors():
                return super().main(*args, **kwargs)
        except StdoutUnwritable as error:
            _discard_stdout()
            click.ClickException(str(error)).show()
            sys.exit(error.exit_code)

    def invoke(self, ctx):
        from hwprof.cli.common import JsonAloneStdout, printable  # notes and errors quote dataset names: as data

        debug = ctx.params.get("debug", False)
        stdout = ctx.meta[JSON_ALONE_STDOUT] = JsonAloneStdout(sys.stdout)
        try:  # a dataset's warning (an unfinished run) is a note, as every command says its notes
            with (
                sigterm_interrupts(),
                warnings_as_notes(lambda note: click.echo(printable(note), err=True)),
                _stdout_as(stdout),
            ):  # stdout's write errors are worded by main(), around every command
                return super().invoke(ctx)
        except HwprofError as error:
            if (interrupt := _reporting_interrupt(error)) is not None:
                _exit_unheard(ctx, interrupt)
            if isinstance(error, StdoutUnwritable):
                _discard_stdout()
            if debug:
                raise
            exception = click.ClickException(printable(error.cli_message()))
            exception.exit_code = error.exit_code
            raise exception from None
        except KeyboardInterrupt as interrupt:  # a command that keeps rows has said where already
            signum = getattr(interrupt, "signum", signal.SIGINT)
            try:
                click.echo(f"interrupted by {signal.Signals(signum).name}", err=True)
            except OSError:
                _exit_unheard(ctx, interrupt)
            ctx.exit(128 + signum)
        except BrokenPipeError:  # `hwprof compare ... | head`: the reader left; exit as a shell's SIGPIPE does
            _discard_stdout()
            ctx.exit(128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1)  # Windows has no SIGPIPE
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # a bug in hwprof (or in a library under it): one sentence, not a dump
            if (interrupt := _reporting_interrupt(error)) is not None:
                _exit_unheard(ctx, interrupt)
            if debug:
                raise
            if (short := out_of_memory(error, ctx.invoked_subcommand)) is not None:
                raise click.ClickException(short) from None
            place = traceback.extract_tb(error.__traceback__)[-1]
            first_line = printable((str(error).strip().splitlines() or [""])[0])
            raise click.ClickException(
                f"hwprof failed unexpectedly ({type(error).__name__}: {first_line} at "
                f"{place.filename.rsplit('/', 1)[-1]}:{place.lineno}); this is a bug, not your input: run again "
                "with `hwprof --debug ...` for the traceback and report it"
            ) from None


@click.group(cls=LazyGroup)
@click.version_option(package_name="hwprof")
@click.option("--debug", is_flag=True, help="Show the full traceback of any error.")
def main(debug):
    """Measure and predict what one inference of a neural network costs on this board."""
