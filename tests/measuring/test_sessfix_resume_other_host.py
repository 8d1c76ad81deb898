"""A resume refused on one board's own CPU says the host and boot differ: naming the same device twice ("on
Fake CPU of board-b, not on this Fake CPU of board-b") reads as a contradiction."""

import socket

from click.testing import CliRunner

from fakes.sysfs import on_board, write_file
from hwprof.cli import main

FAST = ["--power", "none", "--max-time", "0.3", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]


def _boot(tmp_path, boot_id: str) -> None:
    write_file(tmp_path / "sysfs" / "board-b" / "proc" / "sys" / "kernel" / "random" / "boot_id", boot_id + "\n")


def test_a_resume_on_another_host_with_the_same_cpu_names_the_hosts_and_the_boot(tmp_path, monkeypatch):
    on_board(monkeypatch, tmp_path, "board-b")
    _boot(tmp_path, "boot-1")
    out = tmp_path / "board-b.parquet"
    assert CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST]).exit_code == 0
    _boot(tmp_path, "boot-2")
    monkeypatch.setattr(socket, "gethostname", lambda: "some-other-host")
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST, "--resume"])
    message = result.output.strip()
    assert result.exit_code == 1, message
    assert "not on this host some-other-host" in message and "in another boot than this one" in message
    assert "not on this Fake CPU" not in message and "another path" in message
    assert "Traceback" not in message and message.count("\n") == 0
