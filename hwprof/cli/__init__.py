"""The `hwprof` command: a click group whose subcommands load on first use.

Loading lazily keeps `hwprof --help` instant (no torch import) and lets each
area keep its commands in its own module.
"""

import importlib

import click

from hwprof.errors import HwprofError

# command name -> ("module:attribute", one-line help shown by `hwprof --help` without importing it)
COMMANDS = {
    "measure": ("hwprof.cli.measure:measure", "Measure layer and network latency (and power) of models."),
    "models": ("hwprof.cli.measure:models", "List the sample models and their input shapes."),
    "merge": ("hwprof.cli.dataset:merge", "Combine datasets from several runs or boards."),
    "devices": ("hwprof.cli.devices:devices", "List devices and power sensors, and why any is unusable."),
    "plot-trace": ("hwprof.cli.devices:plot_trace", "Draw a power trace written by measure --trace."),
    "fit": ("hwprof.cli.fit:fit", "Fit latency, power and energy predictors from datasets."),
    "predict": ("hwprof.cli.fit:predict", "Predict the cost of models with a fitted predictor."),
    "evaluate": ("hwprof.cli.fit:evaluate", "Score a predictor against measured datasets."),
    "search": ("hwprof.cli.search:search", "Search a space under predicted hardware budgets."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HwprofError as error:
            exception = click.ClickException(error.cli_message())
            exception.exit_code = error.exit_code
            raise exception from None


@click.group(cls=LazyGroup)
@click.version_option(package_name="hwprof")
def main():
    """Measure and predict what one inference of a neural network costs on this board."""
