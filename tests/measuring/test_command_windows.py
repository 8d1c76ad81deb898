"""`hwprof run -- CMD` on Windows, simulated on Linux: no terminal process groups, no /bin/sh, no SIGINT to send."""

import errno
import os
import signal
import subprocess
import sys

import pytest

from hwprof.measuring import command


def test_ctrl_c_on_windows_reaches_the_command_once_and_its_exit_status_is_kept(monkeypatch):
    """Ctrl-C crashed hwprof run on Windows (os.O_NOCTTY, os.tcgetpgrp, then Popen's 'Unsupported signal')
    and lost the command's exit status; the console gives the Ctrl-C to the command itself."""
    for name in ("O_NOCTTY", "tcgetpgrp", "getpgrp"):
        monkeypatch.delattr(os, name, raising=False)
    sent = []

    def windows_send_signal(self, signum):  # Windows' Popen sends SIGTERM (terminate) and console events only
        sent.append(signum)
        if signum != signal.SIGTERM:
            raise ValueError(f"Unsupported signal: {signum}")

    monkeypatch.setattr(subprocess.Popen, "send_signal", windows_send_signal)
    script = "import os, signal, time; os.kill(os.getppid(), signal.SIGINT); time.sleep(0.5); raise SystemExit(7)"
    assert command._run_to_end([sys.executable, "-c", script]) == 7
    assert sent == []


class WindowsPopen:
    """CreateProcess on a script: WinError 193, which Python maps to ENOEXEC; and there is no /bin/sh."""

    started: list = []

    def __init__(self, args, **kwargs):
        WindowsPopen.started.append(list(args))
        if args[0] == "/bin/sh":
            raise FileNotFoundError(errno.ENOENT, "The system cannot find the file specified", args[0])
        error = OSError(errno.ENOEXEC, "%1 is not a valid Win32 application")
        error.winerror = 193
        raise error


def test_a_script_on_windows_is_said_not_to_be_a_windows_program_not_blamed_on_bin_sh(monkeypatch):
    """`hwprof run -- train.py` on Windows retried through /bin/sh and said that could not be found."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(subprocess, "Popen", WindowsPopen)
    WindowsPopen.started = []
    with pytest.raises(command.CannotStart) as refused:
        command._start(["train.py", "--epochs", "1"])
    assert WindowsPopen.started == [["train.py", "--epochs", "1"]]
    assert refused.value.exit_code == 126
    message = str(refused.value)
    assert "not a Windows program" in message and "python train.py --epochs 1" in message
    assert "/bin/sh" not in message and "chmod" not in message


def test_a_file_windows_denies_gets_no_chmod_advice(monkeypatch):
    def denied(args, **kwargs):
        raise PermissionError(errno.EACCES, "Access is denied")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(subprocess, "Popen", denied)
    with pytest.raises(command.CannotStart) as refused:
        command._start(["tools"])
    assert refused.value.exit_code == 126 and "chmod" not in str(refused.value)
