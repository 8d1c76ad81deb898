"""The command `show` gives for what a run left must be one that resumes it: a run that timed its layers warm by the
default of its day resumes only with --cache warm (measure refuses a resume whose plan differs)."""

import pytest

from hwprof.dataset import not_measured_line

MISSING = [{"model": "resnet18", "batch_size": 4}]


@pytest.mark.parametrize(
    ("plan", "argv", "flags"),
    [
        ({"layers": True}, ["hwprof", "measure", "resnet18"], " --cache warm"),  # before the cache was recorded
        ({"layers": True, "cache": "warm"}, ["hwprof", "measure", "resnet18"], " --cache warm"),  # warm by default
        ({"layers": True, "cache": "warm"}, ["hwprof", "measure", "resnet18", "--cache", "warm"], ""),  # as given
        ({"layers": True, "cache": "cold"}, ["hwprof", "measure", "resnet18"], ""),  # today's default
        ({"layers": False}, ["hwprof", "measure", "resnet18", "--no-layers"], " --cache warm"),  # measure asks it too
        ({"layers": False, "cache": "cold"}, ["hwprof", "measure", "resnet18", "--no-layers"], ""),
    ],
)
def test_the_resume_command_names_the_cache_a_run_was_measured_with_when_its_command_does_not(plan, argv, flags):
    line = not_measured_line(MISSING, {"plan": plan, "argv": argv})
    assert line.endswith(f"run the same measure command with --resume{flags} to measure them")
