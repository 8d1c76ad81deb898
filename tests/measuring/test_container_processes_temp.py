"""With /tmp and HOME read-only (a locked-down container), `--processes 2` failed "unexpectedly": each worker's
stderr was kept in a file in the system temp dir. The failure also left an empty `<out>.processes` behind, so
the next run was refused with "pass --resume" though nothing had been measured."""

import sys
import tempfile

import pytest

from hwprof.errors import HwprofError
from hwprof.measuring import processes
from hwprof.measuring.session import MeasureOptions
from hwprof.progress import Progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake worker is a script run by its #! line")


@pytest.fixture
def no_temp_dir(tmp_path, monkeypatch):
    """tempfile finds no usable temporary directory, as with a read-only /tmp."""
    missing = tmp_path / "read-only-tmp"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    monkeypatch.setenv("TMPDIR", str(missing))


def fake_worker(tmp_path, monkeypatch, body: str) -> None:
    """Workers run `sys.executable -m hwprof measure ...`: here a script that runs `body` instead."""
    script = tmp_path / "worker"
    script.write_text(f"#!{sys.executable}\nimport sys\nout = sys.argv[sys.argv.index('--out') + 1]\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(script))


def test_workers_run_without_a_writable_system_temp_dir(tmp_path, monkeypatch, no_temp_dir):
    fake_worker(tmp_path, monkeypatch, "open(out, 'w').close()")
    folder = tmp_path / "o.parquet.processes"
    shards = processes.run_workers(["mlp"], MeasureOptions(processes=2), folder, Progress())
    assert [shard.name for shard in shards] == ["process1.parquet", "process2.parquet"]
    assert sorted(path.name for path in folder.iterdir()) == ["process1.parquet", "process2.parquet"]


def test_a_failing_workers_sentence_is_read_without_a_writable_system_temp_dir(tmp_path, monkeypatch, no_temp_dir):
    fake_worker(tmp_path, monkeypatch, "print('Error: no model is called mlq', file=sys.stderr)\nsys.exit(1)")
    folder = tmp_path / "o.parquet.processes"
    with pytest.raises(HwprofError, match="process 1 of 2 said: no model is called mlq$"):
        processes.run_workers(["mlq"], MeasureOptions(processes=2), folder, Progress())
    assert not folder.exists()  # nothing measured: the next run is not told to resume


def test_a_run_stopped_before_any_worker_wrote_leaves_no_work_folder(tmp_path, monkeypatch):
    def stopped(command):
        raise KeyboardInterrupt

    monkeypatch.setattr(processes, "_run", stopped)
    folder = tmp_path / "o.parquet.processes"
    with pytest.raises(KeyboardInterrupt):
        processes.run_workers(["mlp"], MeasureOptions(processes=2), folder, Progress())
    assert not folder.exists()
