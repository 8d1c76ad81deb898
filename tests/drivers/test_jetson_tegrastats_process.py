"""tegrastats run through a wrapper script (`#!/bin/sh` without exec, as written to add sudo): closing the sensor
ends every process the wrapper started, promptly, and the reader thread never dies with a traceback."""

import sys
import threading
from pathlib import Path

import pytest

from fakes.sysfs import write_file
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
