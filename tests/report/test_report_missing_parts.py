"""What the report says where a part is missing: a dataset measured without power is told why, not to add
--trace (which cannot trace without a sensor), and a dataset without commands says so in the Commands
section that the help lists, which was left out."""

import re

from fakes.runs import synthetic_row
from hwprof.dataset import DatasetWriter
from hwprof.report.page import build_report
from hwprof.schema import SCHEMA_VERSION

SAMPLES_S = (1e-3, 1.1e-3, 0.9e-3)
FROZEN = "the counter of rapl:package-0 did not advance during 0.3 s of reads as it opened"


def dataset(path, power):
    provenance = {"run_id": path.stem, "schema_version": SCHEMA_VERSION, "power": power}
    with DatasetWriter(path, provenance) as writer:
        writer.write([synthetic_row("net", 0, SAMPLES_S), synthetic_row("net", -1, SAMPLES_S)])
    return path


def section(text, anchor):
    return re.search(rf'<section id="{anchor}">(.*?)</section>', text).group(1)


def test_a_dataset_without_power_is_told_why_it_has_no_trace_and_one_with_power_to_trace(tmp_path):
    unpowered = dataset(tmp_path / "vm.parquet", {"source": None, "unavailable_reason": FROZEN})
    powered = dataset(tmp_path / "rapl.parquet", {"source": "rapl:package-0", "unavailable_reason": None})
    build_report([unpowered, powered], tmp_path / "r.html")
    power = section((tmp_path / "r.html").read_text(), "power")
    assert f"vm.parquet: no power trace, as power was unavailable: {FROZEN}" in power
    assert "vm.trace.parquet not found" not in power
    assert "rapl.parquet: no power trace (rapl.trace.parquet not found; measure or run with --trace)" in power


def test_a_dataset_without_commands_says_so_under_commands(tmp_path):
    summary = build_report([dataset(tmp_path / "d.parquet", None)], tmp_path / "r.html")
    assert summary["sections"][-1] == "commands"
    commands = section((tmp_path / "r.html").read_text(), "commands")
    assert "no commands: no row of these datasets was measured by hwprof run" in commands
