"""One concept, one spelling across commands."""

import click

from hwprof.cli import main


def test_every_command_with_an_output_takes_dash_o():
    """-o worked for report and merge only; fit -o and measure -o were 'No such option'."""
    context = click.Context(main)
    without = []
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        for param in command.params:
            if "--out" in getattr(param, "opts", []) and "-o" not in param.opts:
                without.append(name)
    assert without == []
