"""A run line of `show` leaves unsaid the allocator and cache mode measure uses by default, and names any other:
its defaults are measure's own, so that a change of measure's default cannot make show call a default run unusual."""

from click.testing import CliRunner

from hwprof.cli.dataset import DEFAULT_SETTINGS, _unusual_settings
from hwprof.cli.measure import measure


def test_the_run_lines_defaults_are_measures():
    defaults = {option.name: option.default for option in measure.params if option.name in DEFAULT_SETTINGS}
    assert DEFAULT_SETTINGS == defaults
    assert _unusual_settings(defaults) == ""
    assert _unusual_settings({"allocator": "system", "cache": "warm"}) == "allocator system, cache warm, "


def test_measure_help_states_the_defaults_show_leaves_unsaid():
    shown = CliRunner().invoke(measure, ["--help"], terminal_width=200).output
    assert all(f"[default: {value}]" in shown for value in DEFAULT_SETTINGS.values())
