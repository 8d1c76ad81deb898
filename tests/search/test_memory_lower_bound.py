"""memory_mb is a lower bound: the layer records say no layer's producers, so tensors kept alive across layers
(skip connections, a U-Net's encoder outputs) cannot be counted. Where a search user reads the figure (--help,
the summary) it says so, with its unit, and that flops counts multiply-accumulates."""

from click.testing import CliRunner

from fakes.search_doubles import search_result, two_trained_trials
from hwprof.cli import main
from hwprof.search.report import summary_lines


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_constraint_help_defines_memory_mb_and_flops():
    said = flat(CliRunner().invoke(main, ["search", "--help"]).output)
    assert "memory_mb is a lower bound on inference memory in MB of 10^6 bytes" in said
    assert "skip connections" in said and "runtime" in said
    assert "accumulates (MACs) of one inference" in said  # click may wrap at the hyphen of multiply-accumulates


def test_the_summary_says_what_a_counted_budget_was_held_on():
    records = two_trained_trials()
    for record in records:
        record.metrics.update({"memory_mb": 1.0, "flops": 10.0})
        record.checked.update({"memory_mb<=60": 1.0, "flops<=1e+09": 10.0})
    lines = summary_lines(search_result(records, ("latency_ms<=5", "memory_mb<=60", "flops<=1e9")))
    assert any(line.startswith("memory_mb is a lower bound on inference memory in MB of 10^6 bytes") for line in lines)
    assert any(line.startswith("flops is the count of multiply-accumulates (MACs)") for line in lines)
    assert not any(line.startswith("latency_ms is") for line in lines)  # a predicted budget needs no such line
