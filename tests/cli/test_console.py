"""What the terminal shows is what hwprof wrote: model names are not read as emoji codes or markup."""

from hwprof.cli.common import _RichProgress, make_console


def test_model_names_print_as_written(capsys):
    make_console().print("hf:llama:tiny at [batch 1]")
    progress = _RichProgress()
    progress.note("hf:llama:tiny [bold]traced[/bold]")
    progress.stop()
    captured = capsys.readouterr()
    assert "hf:llama:tiny" in captured.out and "\N{LLAMA}" not in captured.out + captured.err
    assert "[bold]traced[/bold]" in captured.err  # a progress note, on stderr


def test_a_reader_that_leaves_early_ends_the_command_as_sigpipe_does_not_as_a_regression(tmp_path):
    """`hwprof compare A B | head -1` must not exit 1, which compare's CI gate reads as a regression."""
    import signal
    import subprocess
    import sys

    from fakes.runs import write_run

    base, new = write_run(tmp_path / "base.parquet", seed=1), write_run(tmp_path / "new.parquet", seed=2)
    reader_gone = subprocess.Popen(
        [sys.executable, "-m", "hwprof", "compare", str(base), str(new)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader_gone.stdout.close()  # nothing will read what it prints
    _, stderr = reader_gone.communicate(timeout=120)
    assert reader_gone.returncode == 128 + signal.SIGPIPE, stderr
    assert b"Traceback" not in stderr


def test_the_progress_bar_and_its_notes_go_to_stderr(capsys):
    """Chosen where stderr is a terminal, the bar must not write into a redirected stdout (`> results.txt`)."""
    progress = _RichProgress()
    progress.group("mlp", 1, 2)
    progress.item_done("mlp (network)", 0.1, True)
    progress.note("no layer sweep for the fit")
    progress.stop()
    captured = capsys.readouterr()
    assert captured.out == "" and "no layer sweep for the fit" in captured.err


def test_python_dash_m_hwprof_names_itself_hwprof():
    """`python -m hwprof --version` said "python -m hwprof, version ..." and its usage lines likewise."""
    import subprocess
    import sys

    version = subprocess.run([sys.executable, "-m", "hwprof", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("hwprof, version ")
