"""Under the C locale without UTF-8 mode (PYTHONUTF8=0 LC_ALL=C) Python opens stdout as ASCII with surrogateescape:
text it cannot carry must still print, with stand-ins, as it does on a strict ASCII stream."""

import io
import os
import subprocess
import sys
from pathlib import Path

from fakes.runs import write_run

TESTS = Path(__file__).resolve().parents[1]


def test_a_non_ascii_model_name_under_the_c_locale_prints_with_stand_ins(tmp_path):
    """`show` of a model named modèle_µ failed at its first cell with 'failed unexpectedly (UnicodeEncodeError)'."""
    dataset = write_run(tmp_path / "uni.parquet", models=("mod\N{LATIN SMALL LETTER E WITH GRAVE}le_\N{MICRO SIGN}",))
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONIOENCODING", "LANG", "LC_CTYPE")}
    env.update(PYTHONUTF8="0", LC_ALL="C", PYTHONPATH=str(TESTS), COLUMNS="200")
    shown = subprocess.run(
        [sys.executable, "-m", "hwprof", "show", str(dataset)], capture_output=True, env=env, timeout=120
    )
    assert shown.returncode == 0, shown.stderr.decode()
    assert b"mod?le_? batch 1" in shown.stdout
    assert f"dataset: {dataset}".encode() in shown.stdout


def test_a_surrogate_for_an_undecodable_byte_is_written_back_as_that_byte(monkeypatch):
    """A file name's byte 0xe9, read under the C locale, is the surrogate U+DCE9: it prints as the byte it was,
    while an ellipsis hwprof wrote prints as three dots."""
    from hwprof.cli import usable_streams

    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdout", stream)
    usable_streams()
    print("r\udce9sultats \N{HORIZONTAL ELLIPSIS}")
    stream.flush()
    assert stream.buffer.getvalue() == b"r\xe9sultats ...\n"
