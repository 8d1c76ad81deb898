"""What the terminal shows is what hwprof wrote: model names are not read as emoji codes or markup."""

from hwprof.cli.common import _RichProgress, make_console


def test_model_names_print_as_written(capsys):
    make_console().print("hf:llama:tiny at [batch 1]")
    progress = _RichProgress()
    progress.note("hf:llama:tiny [bold]traced[/bold]")
    progress.stop()
    out = capsys.readouterr().out
    assert "hf:llama:tiny" in out and "\N{LLAMA}" not in out
    assert "[bold]traced[/bold]" in out
