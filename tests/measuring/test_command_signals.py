"""`hwprof run -- CMD` stands in for CMD: a SIGINT sent to hwprof alone reaches CMD, as SIGTERM does."""

import json
import signal
import sys

from fakes.processes import signalled_run
from hwprof.dataset import read_dataset


def test_a_sigint_sent_to_hwprof_alone_is_passed_on_and_exits_130(sysfs_root, tmp_path):
    """kill -INT to hwprof's pid was swallowed: the command ran to its end and hwprof exited 0."""
    out = tmp_path / "rs.parquet"
    # its own session: no terminal, so no Ctrl-C reached the command
    status, stderr = signalled_run(out, signal.SIGINT, start_new_session=True)
    assert status == 130, stderr
    assert json.loads(read_dataset(out).iloc[0]["config"])["exit_status"] == 130


def test_ctrl_c_at_a_terminal_is_not_sent_to_the_command_twice(monkeypatch):
    from hwprof.measuring import command

    monkeypatch.setattr(command, "_ctrl_c_at_terminal", lambda: True)
    script = "import os, signal, time; os.kill(os.getppid(), signal.SIGINT); time.sleep(0.5)"
    assert command._run_to_end([sys.executable, "-c", script]) == 0  # the terminal sent CMD its own
