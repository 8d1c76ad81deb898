"""Loading hwprof's parts for the caller must not move the caller's seeded Python generator."""

import subprocess
import sys

SCRIPT = """
import random
random.seed(0)
state = random.getstate()
import hwprof
for name in hwprof.__all__:
    getattr(hwprof, name)
assert random.getstate() == state, "loading hwprof's API moved Python's random generator"
"""


def test_loading_every_public_name_leaves_pythons_random_generator_where_it_was():
    """fit's modules load sklearn, which loads rich, which draws a number from `random` as it loads."""
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
