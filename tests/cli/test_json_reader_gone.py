"""A --json document larger than a pipe's buffer, whose reader leaves early (`hwprof show A --json | head -c 10`):
the command exits as SIGPIPE would (141), as its text output does, not 0 with the document silently cut."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.cli.common import JSON_PIECE, echo_json

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="Windows has no SIGPIPE")
def test_a_reader_leaving_a_large_json_document_ends_show_as_sigpipe_does(tmp_path):
    dataset = write_run(tmp_path / "many.parquet", models=[f"net{index}" for index in range(80)], samples=6)
    whole = CliRunner().invoke(main, ["show", str(dataset), "--json"]).output
    assert len(whole) > 3 * JSON_PIECE  # several pipe buffers
    reader = subprocess.Popen(
        [sys.executable, "-m", "hwprof", "show", str(dataset), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    assert reader.stdout.read(10) == whole[:10].encode()
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 128 + signal.SIGPIPE, stderr


def test_echo_json_writes_the_whole_document_in_pieces(capsys):
    document = {"rows": list(range(JSON_PIECE // 2))}
    echo_json(document)
    assert json.loads(capsys.readouterr().out) == document
