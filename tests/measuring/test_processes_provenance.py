"""A --processes run records the cache mode, execution and contention its workers measured with, as a run in one
process does: without them fit read its layers as timed warm, warned of mixed cache modes beside a cold run, and
`show --json` gave cache null."""

from hwprof.dataset import run_conditions
from hwprof.fitting.data import _run_summary
from hwprof.measuring.session import _add_workers

CACHE = {"mode": "cold", "cache_bytes": 33554432, "cache_bytes_source": "sysfs"}
EXECUTION = {"dtype": "float32", "channels_last": False, "compile": False, "layers_compiled": False}


def worker(discarded: int, waited_s: float) -> dict:
    return {
        "run_id": f"w{discarded}",
        "allocator": {"policy": "steady", "applied": True},
        "power": {"requested": "none"},
        "cache": dict(CACHE),
        "execution": dict(EXECUTION),
        "contention": {"discarded_bursts": discarded, "waited_s": waited_s},
    }


def test_the_combining_run_records_the_workers_cache_execution_and_contention_summed():
    provenance = {"plan": {"layers": True, "processes": 3}, "allocator": {"policy": "steady"}}
    _add_workers(provenance, [worker(1, 0.5), worker(0, 0.0), worker(4, 1.25)], None)
    assert provenance["cache"] == CACHE and provenance["execution"] == EXECUTION
    assert provenance["contention"] == {"discarded_bursts": 5, "waited_s": 1.75}
    summary = _run_summary(provenance)  # what fit keeps of the run
    assert summary["cache"] == "cold" and summary["dtype"] == "float32" and summary["channels_last"] is False
    assert run_conditions(provenance)["cache"] == "cold"  # what show and compare read
