"""The `hwprof` command: a click group whose subcommands load on first use.

Loading lazily keeps `hwprof --help` instant (no torch import) and lets each
area keep its commands in its own module.
"""

import importlib

import click

from hwprof.errors import HwprofError

# command name -> "module:attribute"
COMMANDS = {
    "measure": "hwprof.cli_measure:measure",
    "models": "hwprof.cli_measure:models",
    "merge": "hwprof.cli_dataset:merge",
    "devices": "hwprof.cli_devices:devices",
    "plot-trace": "hwprof.cli_devices:plot_trace",
    "fit": "hwprof.cli_fit:fit",
    "predict": "hwprof.cli_fit:predict",
    "evaluate": "hwprof.cli_fit:evaluate",
    "search": "hwprof.cli_search:search",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HwprofError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=LazyGroup)
@click.version_option(package_name="hwprof")
def main():
    """Measure and predict what one inference of a neural network costs on this board."""
