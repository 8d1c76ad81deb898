"""A --processes dataset written before the combining run copied its workers' cache mode and execution: fit
reads them from the workers' runs, not as layers timed warm in float32 by default."""

from hwprof.fitting.data import _run_summary


def test_a_processes_run_without_its_own_cache_section_reads_its_workers():
    workers = [
        {"cache": {"mode": "cold"}, "execution": {"dtype": "bfloat16", "channels_last": True, "compile": False}}
        for _ in range(2)
    ]
    summary = _run_summary({"plan": {"layers": True, "processes": 2}, "processes": workers})
    assert summary["cache"] == "cold"
    assert summary["dtype"] == "bfloat16" and summary["channels_last"] is True


def test_a_run_in_one_process_from_before_cache_modes_still_reads_as_warm():
    assert _run_summary({"plan": {"layers": True}})["cache"] == "warm"
    assert _run_summary({"plan": {"layers": True}, "processes": "garbled"})["cache"] == "warm"


def test_show_and_compare_read_the_workers_too():
    """run_conditions (show's and compare's) and show's execution words read an old --processes run's workers."""
    from hwprof.cli.dataset import _execution
    from hwprof.dataset import run_conditions

    workers = [
        {"cache": {"mode": "cold"}, "execution": {"dtype": "bfloat16", "compile": False, "channels_last": False}}
    ]
    run = {"plan": {"layers": True, "processes": 1}, "processes": workers}
    assert run_conditions(run)["cache"] == "cold"
    assert "bfloat16" in " ".join(_execution(run))
