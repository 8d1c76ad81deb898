"""`measure --resume` continues a measurement on the device and host it was taken on, never on another
board: resuming board-b's killed shard on board-a would put two boards' rows in one file."""

import socket

import pytest
from click.testing import CliRunner

from fakes.sysfs import on_board, write_file
from hwprof.cli import main
from hwprof.dataset import read_dataset

FAST = ["--power", "none", "--max-time", "0.3", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]


def measure(out, *extra):
    return CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST, *extra])


@pytest.fixture
def shard_of_board_b(tmp_path, monkeypatch):
    on_board(monkeypatch, tmp_path, "board-b")
    out = tmp_path / "board-b.parquet"
    result = measure(out)
    assert result.exit_code == 0, result.output
    return out


def test_resuming_on_another_device_is_refused_naming_both(shard_of_board_b, tmp_path, monkeypatch):
    before = shard_of_board_b.read_bytes()
    on_board(monkeypatch, tmp_path, "board-a")
    result = measure(shard_of_board_b, "--resume")
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert "Fake CPU of board-b" in message and "Fake CPU of board-a" in message and "another path" in message
    assert "Traceback" not in message and message.count("\n") == 0
    assert shard_of_board_b.read_bytes() == before and not (tmp_path / "board-b.parquet.lock").exists()
    assert read_dataset(shard_of_board_b)["device_name"].unique().tolist() == ["Fake CPU of board-b"]


def _boot(tmp_path, boot_id: str) -> None:
    write_file(tmp_path / "sysfs" / "board-b" / "proc" / "sys" / "kernel" / "random" / "boot_id", boot_id + "\n")


@pytest.fixture
def shard_of_booted_board_b(tmp_path, monkeypatch):
    on_board(monkeypatch, tmp_path, "board-b")
    _boot(tmp_path, "boot-1")
    out = tmp_path / "board-b.parquet"
    assert measure(out).exit_code == 0
    return out


def test_resuming_on_another_host_is_refused(shard_of_booted_board_b, tmp_path, monkeypatch):
    _boot(tmp_path, "boot-2")
    monkeypatch.setattr(socket, "gethostname", lambda: "some-other-host")
    result = measure(shard_of_booted_board_b, "--resume")
    assert result.exit_code == 1 and "host some-other-host" in result.output, result.output


def test_a_new_container_on_the_same_boot_carries_on_though_its_hostname_changed(shard_of_booted_board_b, monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "9e8d7c6b5a41")  # a container's random hostname
    result = measure(shard_of_booted_board_b, "--resume")
    assert result.exit_code == 0, result.output


def test_resuming_on_the_same_board_carries_on(shard_of_board_b):
    assert measure(shard_of_board_b, "--resume").exit_code == 0
