"""Writing and reading files where Windows lacks what Linux has: no os.pathconf, no fcntl (file locks come from
msvcrt.locking, which locks byte ranges, mandatorily), no O_NOFOLLOW, O_NONBLOCK or O_CLOEXEC, and no removing
a file that is open. Simulated here by taking those away."""

import contextlib
import os
import sys
import types

import pytest

from hwprof.errors import HwprofError
from hwprof.files import COMPANION_ADDED, check_output


def test_an_output_is_checked_against_windows_path_limits_without_pathconf(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "pathconf")
    monkeypatch.setitem(sys.modules, "winreg", None)
    assert check_output(tmp_path / "out.parquet", companions=True) == tmp_path / "out.parquet"
    free = 260 - len(str(tmp_path)) - len("/.parquet") - COMPANION_ADDED
    too_long = tmp_path / ("L" * free + ".parquet")
    with pytest.raises(HwprofError, match="characters long as a full path.*past this system's limit of 260"):
        check_output(too_long, companions=True)

    @contextlib.contextmanager
    def open_key(root, name):
        assert name == r"SYSTEM\CurrentControlSet\Control\FileSystem"
        yield name

    winreg = types.SimpleNamespace(HKEY_LOCAL_MACHINE=0, OpenKey=open_key, QueryValueEx=lambda key, name: (1, 4))
    monkeypatch.setitem(sys.modules, "winreg", winreg)
    assert check_output(too_long, companions=True) == too_long  # long paths enabled
    with pytest.raises(HwprofError, match=f"give a name of at most {255 - COMPANION_ADDED} characters"):
        check_output(tmp_path / ("N" * 250), companions=True)
