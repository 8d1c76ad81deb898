"""`hwprof run -- CMD` killed outright (SIGKILL) stops CMD, as measure's workers are stopped: an orphaned CMD
would go on running with nothing left to record it."""

import os
import signal
import subprocess
import sys
import time

import pytest

from fakes.processes import alive, children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_the_command_stops_when_hwprof_run_is_killed():
    code = "from hwprof.measuring.command import _run_to_end; _run_to_end(['sleep', '30'])"
    parent = subprocess.Popen([sys.executable, "-c", code])
    started = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not started:
            started = children(parent.pid)
            time.sleep(0.05)
        assert started, "the command did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(pid) for pid in started):
            time.sleep(0.05)
        assert not any(alive(pid) for pid in started)
    finally:
        parent.kill()
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
