"""`hwprof run -- CMD` killed outright (SIGKILL) stops CMD, as measure's workers are stopped: an orphaned CMD
would go on running with nothing left to record it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(parent) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_the_command_stops_when_hwprof_run_is_killed():
    code = "from hwprof.measuring.command import _run_to_end; _run_to_end(['sleep', '30'])"
    parent = subprocess.Popen([sys.executable, "-c", code])
    children = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not children:
            children = _children(parent.pid)
            time.sleep(0.05)
        assert children, "the command did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in children)
    finally:
        parent.kill()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
