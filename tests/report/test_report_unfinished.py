"""The report of a run that did not finish says so, as `show` does: it read as a complete one ("runs 1"),
while show called the run interrupted and the terminal note counted the rows only its journal held."""

import re
import sys
from pathlib import Path

import pytest

from fakes.runs import synthetic_row
from hwprof.dataset import DatasetWriter
from hwprof.errors import UnfinishedDatasetWarning
from hwprof.report.page import build_report
from hwprof.schema import SCHEMA_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset"))
from test_unfinished import killed_run  # noqa: E402

SAMPLES_S = (1e-3, 1.1e-3, 0.9e-3)


def overview(out: Path) -> str:
    text = out.read_text()
    return text[text.index('<section id="overview">') : text.index('<section id="breakdown">')]


def runs_cell(section: str, dataset: str) -> str:
    return re.findall(r"<td>([^<]*)</td>", re.search(rf"<td>{dataset}</td>(.*?)</tr>", section).group(1))[-2]


def test_an_interrupted_run_is_said_to_be_and_a_complete_one_is_not(tmp_path):
    paths = []
    for name, status in (("cut", "interrupted"), ("done", "complete")):
        writer = DatasetWriter(
            tmp_path / f"{name}.parquet", {"run_id": f"{name}-run", "schema_version": SCHEMA_VERSION}
        )
        writer.write([synthetic_row("net", 0, SAMPLES_S), synthetic_row("net", -1, SAMPLES_S)])
        writer.close(status)
        paths.append(tmp_path / f"{name}.parquet")
    build_report(paths, tmp_path / "r.html")
    section = overview(tmp_path / "r.html")
    assert runs_cell(section, "cut.parquet") == "1 (1 interrupted)" and runs_cell(section, "done.parquet") == "1"
    assert (
        f"cut.parquet: run cut-run (interrupted) did not finish, so these data may lack what it had still to "
        f"measure: `hwprof show {tmp_path / 'cut.parquet'}` names it"
    ) in section
    assert "done.parquet: run" not in section


def test_a_killed_runs_report_counts_the_rows_only_its_journal_holds(tmp_path):
    path = tmp_path / "dd.parquet"
    killed_run(path)
    with pytest.warns(UnfinishedDatasetWarning):
        build_report([path], tmp_path / "r.html")
    section = overview(tmp_path / "r.html")
    assert runs_cell(section, "dd.parquet") == "1 (1 interrupted)"
    assert "(interrupted) did not finish" in section
    assert "5 more row(s) are in its journal dd.parquet.partial.jsonl" in section


def test_the_report_names_what_a_resume_still_has_to_measure_as_show_does(tmp_path):
    plan = {"models": ["net", "other"], "batch_sizes": [1, 2], "cache": "cold"}
    writer = DatasetWriter(tmp_path / "cut.parquet", {"run_id": "r1", "schema_version": SCHEMA_VERSION, "plan": plan})
    writer.write([synthetic_row("net", 0, SAMPLES_S), synthetic_row("net", -1, SAMPLES_S)])  # net at batch 1 only
    writer.close("interrupted")
    build_report([tmp_path / "cut.parquet"], tmp_path / "r.html")
    assert (
        "cut.parquet: not measured yet: net at batch 2, other at batch 1, other at batch 2; run the same measure "
        "command with --resume to measure them"
    ) in overview(tmp_path / "r.html")
