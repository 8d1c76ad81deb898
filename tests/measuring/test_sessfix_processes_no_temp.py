"""measure(processes=N) without out= keeps its workers' rows in the system temp dir: where that cannot be written
(a read-only /tmp) it failed with a FileNotFoundError; it asks for out= in one sentence instead."""

import tempfile

import pytest

import hwprof
from hwprof.errors import HwprofError
from hwprof.measuring import processes


def test_processes_without_out_and_without_a_temp_dir_ask_for_out(tmp_path, monkeypatch):
    missing = tmp_path / "read-only-tmp"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    monkeypatch.setenv("TMPDIR", str(missing))
    started = []
    monkeypatch.setattr(processes, "run_workers", lambda *args: started.append(args))
    with pytest.raises(HwprofError, match=r"^processes=2 without out= .* cannot be written here .*: give out= a "):
        hwprof.measure("mlp", processes=2, power="none", sweep_share=0)
    assert started == []
