"""Terminals that are not the developer's: a closed stdout, an ASCII-only encoding, 40 or 80 columns, paths that
look like markup, a reader that leaves early. What hwprof prints must survive each, whole and as written."""

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fakes.runs import write_run
from fakes.search_doubles import TOY_SPACE
from hwprof.cli import main
from hwprof.cli.common import make_console

TESTS = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.TextIOWrapper):
    """A terminal as rich sees one (isatty), whose bytes the test reads back."""

    def isatty(self):
        return True


def on_terminal(monkeypatch, columns: int, encoding: str = "utf-8") -> Terminal:
    stream = Terminal(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("COLUMNS", str(columns))
    return stream


def shown(stream: Terminal) -> str:
    stream.flush()
    return ANSI.sub("", stream.buffer.getvalue().decode(stream.encoding))


def hwprof(*args) -> None:
    """`hwprof ARGS` in this process, its output going to whatever sys.stdout is now."""
    try:
        main.main([str(arg) for arg in args], standalone_mode=False)
    except SystemExit as exit_:
        assert exit_.code in (0, None)


def run_hwprof(shell: str, *args, **env) -> subprocess.CompletedProcess:
    """`python -m hwprof ARGS` under `shell` (where "$@" stands for the command), e.g. '"$@" >&-'."""
    command = [sys.executable, "-m", "hwprof", *map(str, args)]
    return subprocess.run(
        ["sh", "-c", f"exec {shell}", "sh", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(TESTS), **env},
    )


@pytest.fixture
def runs(tmp_path):
    """A base run and a new one whose network takes 13.35 times as long: +1234.9%, numbers of many digits."""
    base = write_run(tmp_path / "base.parquet", factor=1.0, seed=1)
    new = write_run(tmp_path / "new.parquet", factor=13.35, seed=2)
    return base, new


@pytest.mark.parametrize("command", ["show", "compare"])
def test_a_closed_stdout_discards_the_output_and_the_command_succeeds(runs, command):
    """`hwprof show A >&-` said 'hwprof failed unexpectedly (AttributeError ... isatty)' and exited 1, which
    compare's gate reads as a regression."""
    base, new = runs
    again = write_run(new.with_name("again.parquet"), seed=3)
    args = [base] if command == "show" else [base, again, "--fail-above", "50%"]
    closed = run_hwprof('"$@" >&-', command, *args)
    assert closed.returncode == 0, closed.stderr
    assert "unexpectedly" not in closed.stderr


def test_an_ascii_only_stream_gets_stand_ins_not_a_unicode_error(tmp_path):
    """PYTHONIOENCODING=ascii: a path (or a cut cell's '…') the encoding cannot carry failed halfway through."""
    folder = tmp_path / "r\N{LATIN SMALL LETTER E WITH ACUTE}sultats"
    folder.mkdir()
    dataset = write_run(folder / "a.parquet")
    ascii_only = run_hwprof('"$@"', "show", dataset, PYTHONIOENCODING="ascii")
    assert ascii_only.returncode == 0, ascii_only.stderr
    assert f"dataset: {tmp_path}/r?sultats/a.parquet" in ascii_only.stdout


def test_hwprofs_own_ellipsis_on_an_ascii_terminal_reads_as_three_dots(monkeypatch, runs):
    from hwprof.cli import usable_streams

    stream = on_terminal(monkeypatch, 40, encoding="ascii")
    usable_streams()
    make_console().print("\N{HORIZONTAL ELLIPSIS} 3 more networks")
    hwprof("show", runs[1])
    output = shown(stream)
    assert output.startswith("... 3 more networks") and "dataset:" in output


def whole(output: str, number: str) -> bool:
    return any(number in line for line in output.splitlines())


@pytest.mark.parametrize("columns", [40, 80])
def test_no_table_cuts_a_number_short_on_a_narrow_terminal(monkeypatch, runs, columns):
    """On a terminal of 80 columns show cut 13.792 to '13.7…' and compare '+1234.9%' to '+1234.…'; at 40 show's
    networks table lost every column but the interval. A number wider than its column folds onto the next line."""
    base, new = runs
    summary = json.loads(CliRunner().invoke(main, ["show", str(new), "--json"]).output)
    network_ms = f"{summary['networks'][0]['latency_ms']:.3f}"
    stream = on_terminal(monkeypatch, columns)
    hwprof("show", new)
    hwprof("compare", base, new)
    output = shown(stream)
    assert "\N{HORIZONTAL ELLIPSIS}" not in output
    if columns == 80:
        assert whole(output, network_ms), output


def test_paths_and_notes_are_printed_as_written_not_read_as_markup(tmp_path):
    """`hwprof show 'runs[v2]/a.parquet'` said 'dataset: runs/a.parquet', and 'x[/y]/a.parquet' a MarkupError."""
    for folder in ("runs[v2]", "x[/y]"):
        dataset = tmp_path / folder / "a.parquet"
        dataset.parent.mkdir(parents=True)
        write_run(dataset)
        result = CliRunner().invoke(main, ["show", str(dataset)])
        assert result.exit_code == 0, result.output
        assert f"dataset: {dataset}" in result.output


def test_a_reader_that_leaves_early_ends_models_as_sigpipe_does():
    """`hwprof models | head -1` exited 1 without a word: its table went through a console of rich's own."""
    reader_gone = subprocess.Popen(
        [sys.executable, "-m", "hwprof", "models"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    reader_gone.stdout.close()
    _, stderr = reader_gone.communicate(timeout=120)
    assert reader_gone.returncode == 128 + signal.SIGPIPE, stderr


class ReaderGoneAtTheTable(io.StringIO):
    """A pipe whose reader left after the trial lines (`hwprof search ... | head -1`)."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def fileno(self):
        return self.fd

    def write(self, text):
        if "Pareto front" in text:
            raise BrokenPipeError
        return super().write(text)


def test_a_reader_that_leaves_before_the_pareto_table_ends_search_as_sigpipe_does(tmp_path, monkeypatch):
    import hwprof.cli.search
    from fakes.search_doubles import ToyPredictor

    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    with open(tmp_path / "stdout.txt", "w") as kept:
        monkeypatch.setattr(sys, "stdout", ReaderGoneAtTheTable(kept.fileno()))
        args = [space, "--predictor", "toy", "--constraint", "latency_ms<=1", "--trials", 5, "--out", tmp_path / "o"]
        # seeded, a draw with feasible trials and so a Pareto table (unseeded, all 5 were infeasible 1 time in 32)
        args += ["--seed", 1]
        try:
            code = main.main(["search", *map(str, args)], standalone_mode=False)
        except SystemExit as exit_:
            code = exit_.code
    assert code == 128 + signal.SIGPIPE


@pytest.mark.parametrize(
    "scheme, title",
    [("8 folds of whole families", "networks, 8 folds of whole families"), ("leave-one-family-out", "(8 folds)")],
)
def test_the_cross_validation_title_says_its_fold_count_once(capsys, scheme, title):
    """fit's table was titled 'networks, 8 folds of whole families (8 folds)'."""
    from hwprof.cli.fit import _print_fit_summary

    metrics = {"latency_ms": {"n": 12, "mape": 0.1, "rmspe": 0.1, "within_10pct": 0.5, "spearman": 0.9}}
    training = {"rows": {"networks": 12, "unique_layer_configs": 40}}
    summary = {"out": "p.json", "device_name": "cpu", "mode": "layer", "training": training, "layer_models": {}}
    _print_fit_summary({**summary, "cv": {"scheme": scheme, "folds": 8, "metrics": metrics}})
    titles = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("networks, ")]
    assert titles and titles[0].endswith(title)
