"""A run killed after its last table write (status complete, its end_time and seconds recorded) and before its
journal was removed: the next --resume relabelled it interrupted from the journal's start-of-run record."""

import json

import pandas as pd

import hwprof

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


def _journal_as_killed_at_the_end(out) -> dict:
    """The journal the run held when its final table was written: its start record and every row."""
    run = json.loads(out.with_name(out.name + ".json").read_text())["runs"][0]
    start = {key: value for key, value in run.items() if key not in ("end_time", "networks_s", "contention", "rows")}
    rows = pd.read_parquet(out).drop(columns=["run_id"]).astype(object)
    rows = rows.where(rows.notna(), None).to_dict("records")
    lines = [{"provenance": {**start, "status": "running"}}, *({"row": row} for row in rows)]
    out.with_name(out.name + ".partial.jsonl").write_text(
        "".join(json.dumps(line, default=str) + "\n" for line in lines)
    )
    return run


def test_a_complete_run_whose_journal_was_left_stays_complete(tmp_path):
    out = tmp_path / "x.parquet"
    hwprof.measure(["mlp"], out=out, layers=False, **FAST)
    finished = _journal_as_killed_at_the_end(out)
    assert finished["status"] == "complete" and "end_time" in finished
    hwprof.measure(["mlp"], out=out, layers=False, resume=True, **FAST)
    runs = json.loads(out.with_name(out.name + ".json").read_text())["runs"]
    kept = next(run for run in runs if run["run_id"] == finished["run_id"])
    assert kept["status"] == "complete" and kept["end_time"] == finished["end_time"]
    assert kept["networks_s"] == finished["networks_s"] and kept["rows"] == finished["rows"]
    assert not out.with_name(out.name + ".partial.jsonl").exists()
