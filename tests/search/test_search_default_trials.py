"""`hwprof search` ran 30 trials by default and `run_search(SearchOptions(...))` 20: one study, two lengths
(and, under NSGA-II, two population sizes) depending on the entry point."""

from hwprof.cli.search import search
from hwprof.search.study import SearchOptions


def test_the_command_and_the_library_default_to_the_same_trial_count():
    trials = next(param for param in search.params if param.name == "trials")
    assert SearchOptions().trials == trials.default == 30
