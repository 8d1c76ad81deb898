"""MANIFEST.in and pyproject.toml: an sdist that carries its tests (and what they read), built without warnings."""

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _source_tree(into: Path) -> Path:
    """The files an sdist is built from, without the benchmarks' data or anything built or cached."""
    ignored = shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "dist", "data", "results")
    shutil.copytree(ROOT, into, ignore=ignored)
    return into


def test_the_sdist_carries_its_tests_with_their_fakes_and_what_they_read_and_builds_without_warnings(tmp_path):
    pytest.importorskip("setuptools", minversion="77.0.3")  # what pyproject's build-system requires
    source = _source_tree(tmp_path / "source")
    build = [sys.executable, "-c", "from setuptools import build_meta; print(build_meta.build_sdist('../sdist'))"]
    done = subprocess.run(build, cwd=source, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "deprecated" not in done.stderr.lower(), done.stderr  # `license = { text = ... }` warned on every build
    with tarfile.open(tmp_path / "sdist" / done.stdout.split()[-1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    shipped_tests = {name for name in names if name.startswith("tests/")}
    assert {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("*.py")} <= shipped_tests
    assert {
        "tests/conftest.py",
        "tests/fakes/__init__.py",
        "BENCHMARKS.md",
        "README.md",
        "LICENSE",
        "bench/nvml_validation.py",
        "bench/measure_reproducibility.py",
        "bench/results_io.py",
        "examples/ci/hwprof-fleet.yml",
    } <= names
    assert not [name for name in names if name.endswith(".pyc") or name.startswith("bench/data/")]


def test_a_source_tree_whose_hwprof_hides_the_installed_one_stops_the_suite_in_one_sentence(monkeypatch):
    """Run from an unpacked sdist against a normal install, 46 test files failed on `No module named
    'hwprof.drivers'`: the tree's hwprof/ folder, without the mapped folders, hides the installed package. (An
    editable install, as here, finds them anyway, so the lookup is made to fail as it does there.)"""
    import importlib.util

    spec = importlib.util.spec_from_file_location("suite_conftest", ROOT / "tests" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)  # by path: `import conftest` gives whichever pytest loaded last
    spec.loader.exec_module(conftest)
    monkeypatch.setattr(conftest.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pytest.UsageError, match=r"hwprof\.drivers, hwprof\.sample_models cannot be imported") as raised:
        conftest.pytest_configure(None)
    assert "pip install -e '.[test]'" in str(raised.value)
