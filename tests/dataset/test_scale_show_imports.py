"""show imports hwprof.cli.measure for its summary, and that module read CACHE_MODES from hwprof.measuring.cache,
which imported torch at its top: seconds and hundreds of MB for a command that only reads a table. The cache
module now imports torch where a layer is timed."""

import subprocess
import sys

SCRIPT = """
import sys
import hwprof.cli.dataset
import hwprof.cli.measure
from hwprof.measuring.cache import CACHE_MODES
print(CACHE_MODES, "torch" in sys.modules)
"""


def test_the_modules_show_loads_import_no_torch():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["('warm',", "'cold')", "False"]


SHOW = """
import sys
from click.testing import CliRunner
from hwprof.cli import main
shown = CliRunner().invoke(main, ["show", sys.argv[1]])
print(shown.exit_code, "torch" in sys.modules)
"""


def test_show_of_a_dataset_loads_no_torch(tmp_path):
    from fakes.runs import write_run

    path = write_run(tmp_path / "run.parquet", models=("net",))
    done = subprocess.run([sys.executable, "-c", SHOW, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["0", "False"], done.stderr
