"""Datasets, raw samples and traces under a non-ASCII path where Python's file system encoding is ASCII
(PYTHONUTF8=0 LC_ALL=C): the name reaches hwprof with surrogates, which open() takes and pyarrow refuses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
from pathlib import Path

from fakes.runs import write_run
from hwprof.dataset import DatasetWriter, read_dataset, read_provenance
from hwprof.samples import read_samples
from hwprof.traces import read_trace, write_trace

assert sys.getfilesystemencoding() == "ascii", sys.getfilesystemencoding()
folder = Path(sys.argv[1])
for suffix in (".parquet", ".csv"):
    out = write_run(folder / f"run{suffix}")
    with DatasetWriter(out, {"run_id": "b" * 32}, append=True) as writer:  # an existing dataset, read back
        pass
    frame = read_dataset(out)
    assert len(frame) == len(read_samples(out).groupby("key")) and read_provenance(out)
    trace = folder / f"power{suffix.replace('.parquet', '.trace.parquet')}"
    write_trace([(0.0, "rapl", 5.0), (0.1, "rapl", 6.0)], trace, "a" * 32)
    assert list(read_trace(trace)["power_w"]) == [5.0, 6.0]
print("ok")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the C locale and surrogate-escaped names are POSIX's")
def test_a_non_ascii_folder_under_the_c_locale_takes_datasets_samples_and_traces(tmp_path):
    """`measure --out "dätä ü/new.parquet"` measured everything, then failed: "surrogates not allowed"."""
    folder = os.fsencode(tmp_path) + "/dätä ü".encode()
    os.mkdir(folder)
    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONUTF8": "0", "LC_ALL": "C", "PYTHONPATH": tests, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, folder], env=env, capture_output=True, text=True, errors="replace", timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
