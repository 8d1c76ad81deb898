"""tegrastats run through a wrapper script (`#!/bin/sh` without exec, as written to add sudo): closing the sensor
ends every process the wrapper started, promptly, and the reader thread never dies with a traceback."""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from fakes.sysfs import write_file
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.jetson import TegrastatsSensor

FAKE_SCRIPT = Path(__file__).parents[1] / "fakes" / "fake_tegrastats.py"


def wrapper(directory: Path, body: str) -> str:
    """An executable shell script that runs `body` as its child, without exec."""
    path = write_file(directory / "tegrastats", f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions that end a thread, which would otherwise print as a traceback."""
    errors = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    return errors


def test_closing_a_wrapped_tegrastats_prints_no_traceback(tmp_path, thread_errors):
    path = wrapper(tmp_path, f'FAKE_TEGRASTATS_BOARD=orin_nano_jp6 {sys.executable} {FAKE_SCRIPT} "$@"')
    sensor = TegrastatsSensor(path, interval_ms=20).open()
    reader = sensor._reader
    assert sensor.source == "tegrastats:VDD_IN"
    sensor.close()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert [str(error.exc_value) for error in thread_errors] == []


def running(pid: int) -> bool:
    """Whether `pid` is still a live process (a zombie waiting for its parent is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def gone_within(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


def test_a_silent_wrapped_tegrastats_is_refused_in_the_time_it_states_and_ended(tmp_path):
    """The wrapper's child prints nothing for 120 s: the refusal came back only when it exited (close waited for
    the blocked reader), and the child was left running."""
    pid_file = tmp_path / "child.pid"
    path = wrapper(tmp_path, f"sh -c 'echo $$ > {pid_file}; exec sleep 120'")
    started = time.monotonic()
    with pytest.raises(SensorUnavailable, match="printed no power rails within 1 s"):
        TegrastatsSensor(path, start_timeout_s=1).open()
    assert time.monotonic() - started < 30
    assert gone_within(int(pid_file.read_text()), 10)


def test_a_child_that_leaves_the_process_group_does_not_hold_the_refusal(tmp_path):
    """As tegrastats run by sudo is, which hwprof may not signal: the refusal does not wait for it to exit."""
    pid_file = tmp_path / "child.pid"
    escape = f"import os, time; os.setsid(); open('{pid_file}', 'w').write(str(os.getpid())); time.sleep(120)"
    path = wrapper(tmp_path, f'{sys.executable} -c "{escape}"')
    started = time.monotonic()
    try:
        with pytest.raises(SensorUnavailable, match="printed no power rails within 1 s"):
            TegrastatsSensor(path, start_timeout_s=1).open()
        assert time.monotonic() - started < 30
    finally:
        if pid_file.exists() and running(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


RAILS = "VDD_IN 7000mW/7000mW VDD_CPU_GPU_CV 1500mW/1500mW VDD_SOC 1200mW/1200mW"


def test_a_tegrastats_that_writes_to_stderr_keeps_giving_power(tmp_path):
    """70 KB of warnings with every line: stderr was never read, so the pipe filled after the first line,
    tegrastats blocked on it, and the windows after it had no power."""
    warning = "yes warning | head -c 70000 >&2"
    path = wrapper(tmp_path, f'while :; do echo "{RAILS}"; {warning}; sleep 0.02; done')
    with TegrastatsSensor(path, interval_ms=20) as sensor:
        sensor.min_window_s = 0.2
        sensor.start_window()
        time.sleep(1)
        window = sensor.stop_window()
    assert window.power_w == pytest.approx(7.0)


def test_its_last_stderr_line_is_given_without_waiting_for_a_child_holding_stderr(tmp_path):
    """A child left in the background holds stderr open after tegrastats exits: the reason is not held for it."""
    path = wrapper(tmp_path, "sleep 120 > /dev/null &\necho 'Error: needs root' >&2\nexit 1")
    started = time.monotonic()
    with pytest.raises(
        SensorUnavailable, match=r"exited with status 1 before printing power rails \(Error: needs root\)"
    ):
        TegrastatsSensor(path).open()
    assert time.monotonic() - started < 30


def test_a_tegrastats_that_exits_mid_run_says_why_in_the_stop_reason(tmp_path):
    go = tmp_path / "go"
    said = "Error: the power monitor went away"
    path = wrapper(tmp_path, f'echo "{RAILS}"\nwhile [ ! -e {go} ]; do sleep 0.05; done\necho "{said}" >&2\nexit 3')
    with TegrastatsSensor(path) as sensor:
        sensor.start_window()
        go.touch()
        deadline = time.monotonic() + 10
        while sensor._poll_error is None and time.monotonic() < deadline:  # until its poller has seen the end
            time.sleep(0.02)
        with pytest.raises(SensorUnavailable, match=rf"exited with status 3 while hwprof was reading it \({said}\)"):
            sensor.stop_window()
