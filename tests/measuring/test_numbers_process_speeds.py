"""The --processes note: each process's speed is its median over the rows, so the note says "typically"; where a
process's rows scattered wider than the processes' typical speeds differ, it says they differed row by row
rather than "every row alike"."""

import pytest

from fakes.runs import worker_row
from hwprof.cli.measure import speeds_line
from hwprof.measuring.processes import combine_shards, row_speeds, worker_speeds

# the audit's two processes: per-row factors 0.6x-1.7x that cancel out to 0.95x and 1.05x over the rows
SCATTERED = ([1.0, 1.7, 0.6, 1.6, 1.1], [1.7, 1.0, 1.0, 1.0, 1.0])
ALIKE = ([1.0, 2.0, 3.0, 4.0, 5.0], [1.2, 2.4, 3.6, 4.8, 6.0])  # the second ran every row 20% slower


def shard(path, latencies_ms, run_id):
    """A worker's dataset: a layer row (a configuration of its own) per latency."""
    from hwprof.dataset import DatasetWriter

    rows = [worker_row("layer", index, str(index), "linear", value) for index, value in enumerate(latencies_ms)]
    with DatasetWriter(path, {"run_id": run_id}) as writer:
        writer.write(rows)
    return path


def facts_of(tmp_path, workers) -> dict:
    """What measure's end line reads, from the workers' combined provenance."""
    shards = [shard(tmp_path / f"process{k}.parquet", ms, f"run{k}") for k, ms in enumerate(workers)]
    _, runs, _, speeds = combine_shards(shards, precision=0.02)
    return {"process_speeds": speeds, "process_row_speeds": [run.get("row_speeds") for run in runs]}


def test_rows_that_cancel_out_are_said_to_differ_row_by_row(tmp_path):
    facts = facts_of(tmp_path, SCATTERED)
    assert max(facts["process_speeds"]) / min(facts["process_speeds"]) < 1.2  # the median hides the scatter
    low, high = facts["process_row_speeds"][0]
    assert low < 0.8 and high > 1.2
    line = speeds_line(facts)
    assert "typically" in line and "row by row" in line and "every row alike" not in line


def test_every_row_slower_alike_is_said_so(tmp_path):
    facts = facts_of(tmp_path, ALIKE)
    assert facts["process_speeds"][1] / facts["process_speeds"][0] == pytest.approx(1.2, abs=1e-3)
    line = speeds_line(facts)
    assert "every row alike" in line and "row by row" not in line


def test_without_the_rows_spread_the_line_claims_neither():
    line = speeds_line({"process_speeds": [0.95, 1.05]})
    assert "typically" in line and "every row alike" not in line and "row by row" not in line


def test_too_few_rows_give_no_spread():
    import pandas as pd

    frames = [
        pd.DataFrame(
            {"model": "m", "batch_size": 1, "seq_len": None, "kind": "layer", "layer_index": [0, 1], "latency_ms": ms}
        )
        for ms in ([1.0, 2.0], [1.5, 2.5])
    ]
    assert row_speeds(frames) is None and worker_speeds(frames) is not None
