"""`hwprof measure --processes N` end to end: fresh workers, a worker that dies, resume, combined rows."""

import json
import textwrap

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.2", "--threads", "1", "--seed", "0"]


@pytest.fixture
def dying_factory(tmp_path):
    """A tiny network whose factory kills the second fresh process that loads it while `die` exists."""
    path = tmp_path / "tiny.py"
    path.write_text(
        textwrap.dedent("""
        import os
        import pathlib
        import signal

        import torch.nn as nn

        HERE = pathlib.Path(__file__).parent

        def tiny():
            seen = HERE / "pids"
            pids = set(seen.read_text().split()) if seen.exists() else set()
            pids.add(str(os.getpid()))
            seen.write_text(" ".join(sorted(pids)))
            if (HERE / "die").exists() and len(pids) == 3:  # the test, the first worker, then this one
                os.kill(os.getpid(), signal.SIGKILL)
            net = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
            net.input_shape = (12,)
            return net
        """)
    )
    (tmp_path / "die").touch()
    return path


@pytest.mark.slow
def test_a_dead_worker_is_one_sentence_and_resume_combines_every_process(tmp_path, dying_factory):
    out = tmp_path / "p.parquet"
    command = ["measure", f"{dying_factory}:tiny", "--out", str(out), "--processes", "2", *FAST]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "measuring process 2 of 2 was killed by SIGKILL" in result.output and "--resume" in result.output
    kept = tmp_path / "p.parquet.processes" / "process1.parquet"
    assert len(pd.read_parquet(kept)) == 4  # the first process's rows are kept

    (tmp_path / "die").unlink()
    result = CliRunner().invoke(main, [*command, "--resume", "--json"])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == json.loads(result.stdout)["rows"] == 4  # 3 layers and the network
    assert (frame["processes"] == 2).all() and (frame["discarded_bursts"] >= 0).all()
    bounded = frame["latency_ms_ci_low"].notna()  # unbounded (NaN) where a worker got too few samples on a busy machine
    assert (frame["latency_ms_ci_low"].isna() == frame["latency_ms_ci_high"].isna()).all()
    assert (frame.loc[bounded, "latency_ms_ci_low"] <= frame.loc[bounded, "latency_ms"]).all()
    assert (frame.loc[bounded, "latency_ms"] <= frame.loc[bounded, "latency_ms_ci_high"]).all()
    assert not (tmp_path / "p.parquet.processes").exists()  # combined, so the workers' datasets are gone
    provenance = json.loads((tmp_path / "p.parquet.json").read_text())["runs"]
    assert provenance[-1]["plan"]["processes"] == 2 and len(provenance[-1]["processes"]) >= 2

    before = out.read_bytes()
    result = CliRunner().invoke(main, [*command, "--resume", "--quiet"])
    assert result.exit_code == 0 and out.read_bytes() == before  # finished: nothing measured again


@pytest.mark.slow
def test_sigterm_stops_the_workers_keeps_their_rows_and_resume_finishes(tmp_path, dying_factory):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    (tmp_path / "die").unlink()
    out = tmp_path / "p.parquet"
    command = [sys.executable, "-m", "hwprof", "measure", f"{dying_factory}:tiny", "--out", str(out)]
    command += ["--processes", "2", *FAST[:4], "--max-time", "1.0", *FAST[6:]]
    parent = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    first = tmp_path / "p.parquet.processes" / "process1.parquet"
    deadline = time.monotonic() + 120
    while not first.exists() and time.monotonic() < deadline:  # the first worker has written rows
        time.sleep(0.05)
    workers = psutil.Process(parent.pid).children(recursive=True)
    parent.send_signal(signal.SIGTERM)
    _, stderr = parent.communicate(timeout=120)
    assert parent.returncode == 128 + signal.SIGTERM and "Traceback" not in stderr
    assert "p.parquet.processes" in stderr and "--resume" in stderr
    assert workers and not any(worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE for worker in workers)
    assert len(pd.read_parquet(first)) >= 1  # what the first worker measured is kept

    result = CliRunner().invoke(main, [*command[3:], "--resume", "--quiet"])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 4 and (frame["processes"] == 2).all()


def test_a_module_object_with_processes_names_what_it_was_given():
    import torch

    from hwprof.errors import HwprofError
    from hwprof.measuring.session import measure

    net = torch.nn.Linear(4, 4)
    net.input_shape = (4,)
    with pytest.raises(HwprofError, match=r"not a Linear object: give its factory as path/to/file.py:factory"):
        measure([net], processes=2, threads=1)


@pytest.mark.slow
def test_a_first_worker_failing_on_bad_input_leaves_nothing_behind_and_no_resume_advice(tmp_path):
    path = tmp_path / "raises.py"
    path.write_text(
        textwrap.dedent("""
        import torch.nn as nn

        class Raises(nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        def raises():
            net = Raises()
            net.input_shape = (4,)
            return net
        """)
    )
    out = tmp_path / "p.parquet"
    result = CliRunner().invoke(main, ["measure", f"{path}:raises", "--out", str(out), "--processes", "2", *FAST])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ValueError: boom" in result.output and "--resume" not in result.output
    assert not (tmp_path / "p.parquet.processes").exists() and not out.exists()
