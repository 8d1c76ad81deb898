"""SIGHUP (a closed terminal or SSH session) killed `hwprof measure` outright: status 129, no --json document,
its lock and .partial.jsonl left behind. It stops the run as SIGTERM does now; `nohup`'s ignored SIGHUP stays
ignored."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hwprof.dataset import journal_path
from hwprof.interrupts import Interrupted, signals_deferred, sigterm_interrupts

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on Windows")


def test_sighup_raises_as_sigterm_does():
    with sigterm_interrupts(), pytest.raises(Interrupted) as stopped:
        assert signal.getsignal(signal.SIGHUP) is not signal.SIG_DFL  # which would end pytest itself
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(1)
    assert stopped.value.exit_code == 129
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # put back as it was


def test_a_sighup_ignored_at_start_stays_ignored():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a command
    try:
        with sigterm_interrupts():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            with signals_deferred():
                os.kill(os.getpid(), signal.SIGHUP)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.slow  # a fresh process imports torch: seconds
def test_a_hung_up_measure_keeps_its_rows_and_exits_129(tmp_path):
    out = tmp_path / "m.parquet"
    command = [sys.executable, "-m", "hwprof", "measure", "mlp", "sweep:add:40", "--out", str(out), "--json"]
    settings = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0"]
    process = subprocess.Popen([*command, *settings], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not journal_path(out).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # a row or two into the journal
    assert process.poll() is None, "the run ended before it could be hung up"
    process.send_signal(signal.SIGHUP)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 129, stderr
    assert json.loads(stdout)["status"] == "interrupted"
    assert "--resume" in stderr and "Traceback" not in stderr
    assert out.exists() and not journal_path(out).exists()
    assert not [path.name for path in tmp_path.iterdir() if path.name.endswith(".lock")]


def test_a_hung_up_terminal_still_exits_with_the_signals_status(tmp_path, monkeypatch):
    """Writing "interrupted: the rows ... are kept" to a terminal that hung up fails (EIO): that ended as a bug,
    status 1."""
    import errno

    import click
    from click.testing import CliRunner

    import hwprof.cli
    from hwprof.measuring import session

    def hung_up(*args, **kwargs):
        raise Interrupted(signal.SIGHUP)

    echo = click.echo

    def gone_terminal(message=None, *args, err=False, **kwargs):
        if err:
            raise OSError(errno.EIO, "Input/output error")
        return echo(message, *args, err=err, **kwargs)

    moved = []
    monkeypatch.setattr(session, "measure", hung_up)
    monkeypatch.setattr(click, "echo", gone_terminal)
    monkeypatch.setattr(hwprof.cli, "_devnull_onto", moved.append)  # not pytest's own descriptors
    result = CliRunner().invoke(
        hwprof.cli.main, ["measure", "mlp", "--power", "none", "--out", str(tmp_path / "m.csv")]
    )
    assert result.exit_code == 129, result.output
    assert moved == [1, 2]
