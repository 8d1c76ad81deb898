"""compare said nothing while it tested a fleet's rows, over a minute for 60 boards: a caller's progress is now
told how many rows are done and about how long the rest takes, at most every PROGRESS_EVERY_S."""

import pytest

import hwprof.compare
from fakes.runs import write_run
from hwprof.compare import compare
from hwprof.errors import HwprofError
from hwprof.progress import Notes


def pair(folder):
    base = write_run(folder / "base.parquet", seed=1, models=("net", "cnn"))
    return base, write_run(folder / "new.parquet", seed=2, models=("net", "cnn"))


def test_a_callers_progress_hears_how_many_rows_are_compared(tmp_path, monkeypatch):
    base, new = pair(tmp_path)
    quiet = compare(base, new)
    said = []
    monkeypatch.setattr(hwprof.compare, "PROGRESS_EVERY_S", 0.0)  # a note before every row but the first
    told = compare(base, new, progress=Notes(said.append))
    total = told["matched_rows"]
    assert total > 2
    assert [line.split(", about ")[0] for line in said] == [f"compared {n} of {total} rows" for n in range(1, total)]
    assert all(line.endswith(" left") for line in said)
    assert told["rows"] == quiet["rows"]  # the figures do not depend on being watched


def test_compare_refuses_a_progress_that_is_not_one(tmp_path):
    base, new = pair(tmp_path)
    with pytest.raises(HwprofError, match="progress is a hwprof.progress.Progress"):
        compare(base, new, progress=print)


def test_the_compare_command_says_how_far_it_is_on_stderr_and_keeps_stdout_json(tmp_path, monkeypatch):
    """The command passed no progress, so a 60-board compare printed nothing for over a minute."""
    import json

    from click.testing import CliRunner

    from hwprof.cli import main

    base, new = pair(tmp_path)
    monkeypatch.setattr(hwprof.compare, "PROGRESS_EVERY_S", 0.0)
    result = CliRunner().invoke(main, ["compare", str(base), str(new), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["matched_rows"] > 2
    assert "compared 1 of " in result.stderr
