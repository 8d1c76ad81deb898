"""`hwprof run --trace`: each sample names the run that took it, and a trace of another dataset (a .csv and a
.parquet of one stem share one) is refused before CMD runs, as measure refuses it."""

import sys

import pytest
from click.testing import CliRunner

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.cli import main
from hwprof.dataset import read_provenance
from hwprof.traces import read_trace

# the fake counter is written by a process a busy 2-CPU machine can stall for 100 ms, a tenth of a window:
# a test of a real-time figure is run again, up to twice, before it fails (a wrong reading fails all three)
pytestmark = pytest.mark.flaky(reruns=2)

SHORT = [sys.executable, "-c", "import time; time.sleep(0.3)"]


def run(*args):
    return CliRunner().invoke(main, ["run", "--power", "rapl", "--idle-s", "0", *map(str, args)])


def test_each_runs_samples_carry_its_run_id_and_another_datasets_trace_is_refused(sysfs_root, tmp_path):
    runs, other = tmp_path / "runs.parquet", tmp_path / "runs.csv"
    ran = tmp_path / "ran"
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 20.0)]):
        for _ in range(2):
            assert run("--out", runs, "--trace", "--", *SHORT).exit_code == 0
        trace = read_trace(tmp_path / "runs.trace.parquet")
        assert set(trace["run_id"]) == {run["run_id"] for run in read_provenance(runs)}
        assert trace["run_id"].notna().all() and trace["run_id"].nunique() == 2
        before = (tmp_path / "runs.trace.parquet").read_bytes()
        marker = [sys.executable, "-c", f"open({str(ran)!r}, 'w').close()"]
        refused = run("--out", other, "--trace", "--", *marker)
    assert refused.exit_code == 1 and "holds samples of runs" in refused.output and "Traceback" not in refused.output
    assert not ran.exists() and not other.exists()  # refused before CMD ran
    assert (tmp_path / "runs.trace.parquet").read_bytes() == before
