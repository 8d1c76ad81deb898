"""In a container with HOME and /tmp read-only, `hwprof report` failed "unexpectedly": matplotlib found no
writable folder for its font cache. With only HOME read-only it wrote the report but printed two matplotlib
warnings. matplotlib is now given a temporary folder where its own cannot be written, and where none can be,
the command says so in one sentence naming MPLCONFIGDIR. A user's MPLCONFIGDIR is theirs."""

import os
import subprocess
import sys

import pytest

from fakes.synthetic import synthetic_frame, write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="HOME and XDG folders are how Linux finds them")

DRAW = """
import os, sys, tempfile
tempfile.tempdir = sys.argv[1]
from hwprof.plotting import new_figure, png_bytes
figure = new_figure()
figure.add_subplot().plot([1, 2], [3, 4])
assert png_bytes(figure).startswith(b"\\x89PNG")
print(os.environ["MPLCONFIGDIR"])
"""
REPORT = """
import sys, tempfile
tempfile.tempdir = sys.argv[1]
from hwprof.cli import main
main(sys.argv[2:], prog_name="hwprof")
"""


def run(script: str, tmp_path, temp_dir, *arguments, **environment) -> subprocess.CompletedProcess:
    """`script` in a fresh process (matplotlib reads its folder when imported) whose HOME cannot be written: it
    lies under a file, which no one, root included, can make a folder in."""
    (tmp_path / "a-file").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(tmp_path / "a-file" / "home"), **environment)
    command = [sys.executable, "-c", script, str(temp_dir), *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_a_read_only_home_gets_a_temporary_folder_without_a_warning(tmp_path):
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    done = run(DRAW, tmp_path, temp_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # matplotlib's "mkdir -p failed" and "created a temporary cache directory" are gone
    assert done.stdout.strip().startswith(str(temp_dir / "hwprof-matplotlib-"))
    assert list(temp_dir.iterdir()) == []  # removed at exit


def test_a_users_mplconfigdir_is_left_as_it_is(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    done = run(DRAW, tmp_path, tmp_path / "a-file" / "tmp", MPLCONFIGDIR=str(theirs))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(theirs)


def test_no_writable_folder_for_matplotlib_is_one_sentence_naming_mplconfigdir(tmp_path):
    dataset = write(synthetic_frame(n_networks=2), tmp_path / "d.parquet")
    done = run(REPORT, tmp_path, tmp_path / "a-file" / "tmp", "report", str(dataset), "-o", str(tmp_path / "r.html"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: matplotlib") and "set MPLCONFIGDIR" in lines[0]
    assert "unexpectedly" not in lines[0] and not (tmp_path / "r.html").exists()
