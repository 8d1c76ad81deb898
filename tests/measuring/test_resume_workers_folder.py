"""A run in one process refuses an output whose --processes run was interrupted: it never reads the workers'
folder, so it measured everything afresh and stranded their rows, which no resume could then reach."""

import pytest
from click.testing import CliRunner

from hwprof import measure
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring.processes import started_workers, work_folder

FAST = ["--power", "none", "--max-time", "0.2", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]


@pytest.fixture
def interrupted(tmp_path):
    """An output whose --processes run stopped in its second worker."""
    out = tmp_path / "p.parquet"
    folder = work_folder(out)
    folder.mkdir()
    (folder / "process1.parquet").write_bytes(b"rows")
    (folder / "process2.parquet.partial.jsonl").write_text("{}\n")
    return out


@pytest.mark.parametrize("resume", [["--resume"], []])
def test_one_process_refuses_the_folder_of_an_interrupted_processes_run(interrupted, resume):
    folder = work_folder(interrupted)
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(interrupted), *FAST, *resume])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{folder} holds the rows of an interrupted --processes N run (2 of its processes started)" in result.output
    assert "carry it on with --resume and the --processes N it was started with (N is 2 or more)" in result.output
    assert "\n" not in result.output.strip()
    assert not interrupted.exists() and sorted(p.name for p in folder.iterdir()) == [
        "process1.parquet",
        "process2.parquet.partial.jsonl",
    ]


def test_from_python_too(interrupted):
    with pytest.raises(HwprofError, match=r"resume=True and the processes=N it was started with \(N is 2 or more\)"):
        measure("mlp", out=str(interrupted), resume=True, layers=False, power="none", max_item_s=0.2)


def test_a_folder_of_one_started_worker_asks_for_two_or_more(tmp_path):
    folder = tmp_path / "w.parquet.processes"
    assert started_workers(folder) == 0
    folder.mkdir()
    (folder / "notes.txt").write_text("")
    assert started_workers(folder) == 0
    (folder / "process1.parquet.partial.jsonl").write_text("")
    assert started_workers(folder) == 1
