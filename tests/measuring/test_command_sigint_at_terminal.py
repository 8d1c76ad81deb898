"""A SIGINT sent to `hwprof run` alone while it runs in its terminal's foreground reaches CMD, as --help says; a
terminal's Ctrl-C, which CMD got too, is still not sent again to a CMD handling it."""

import sys

import pytest

# CMD sends hwprof a SIGINT (kill -INT hwprof) and has no SIGINT handler of its own, as `sleep` has none
KILLS_ITS_PARENT = (
    "import os, signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.kill(os.getppid(), signal.SIGINT); time.sleep(3)"
)


@pytest.fixture
def at_a_terminal(monkeypatch):
    from hwprof.measuring import command

    monkeypatch.setattr(command, "_ctrl_c_at_terminal", lambda: True)  # hwprof in its terminal's foreground
    return command


def test_a_sigint_to_hwprof_alone_at_a_terminal_reaches_a_command_without_a_handler(at_a_terminal):
    """It was dropped as if it were a Ctrl-C: the command ran to its end and hwprof exited 0."""
    assert at_a_terminal._run_to_end([sys.executable, "-c", KILLS_ITS_PARENT]) == 130


def test_a_command_is_seen_to_handle_sigint_or_not(at_a_terminal):
    import subprocess

    for handler, catches in (("signal.default_int_handler", True), ("signal.SIG_DFL", False)):
        script = f"import signal, sys, time; signal.signal(signal.SIGINT, {handler}); print(); sys.stdout.flush(); time.sleep(5)"
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        try:
            child.stdout.readline()  # its handler is set
            assert at_a_terminal._catches_sigint(child.pid) is catches
            assert at_a_terminal._handling_ctrl_c(child.pid) is catches
        finally:
            child.kill()
            child.wait()
