"""A dataset read while another process replaces it (a cron job's `merge --force` into the same file): the
reader gets one version's rows with that version's provenance, never one file's rows with the other's."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from fakes.runs import write_run
from hwprof.dataset import read_dataset, read_provenance, write_table


def replaced_after_the_first_table_read(monkeypatch, reader: str, out, new):
    """Make the first `reader` (pandas' read_csv or read_parquet) of the test replace `out` with the dataset
    `new` right after reading `out`'s old table, as a merge --force finishing between two reads would."""
    frame, runs = read_dataset(new), read_provenance(new)
    read = getattr(pd, reader)
    calls = []

    def read_then_replaced(*args, **kwargs):
        table = read(*args, **kwargs)
        if not calls:
            calls.append(1)
            write_table(out, frame, runs)  # the sidecar first, then the table, as merge writes them
        return table

    monkeypatch.setattr(pd, reader, read_then_replaced)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_and_provenance_read_during_a_replace_belong_together(tmp_path, monkeypatch, suffix):
    """CSV: "the provenance sidecar ... is stale"; Parquet: the new file's provenance with the old file's rows."""
    old, new = write_run(tmp_path / f"old{suffix}"), write_run(tmp_path / f"new{suffix}", seed=1)
    out = tmp_path / f"X{suffix}"
    for companion in ("", ".json"):
        if Path(f"{old}{companion}").exists():
            shutil.copy(f"{old}{companion}", f"{out}{companion}")
    replaced_after_the_first_table_read(monkeypatch, "read_csv" if suffix == ".csv" else "read_parquet", out, new)
    frame = read_dataset(out)
    assert set(frame["run_id"]) == {run["run_id"] for run in frame.attrs["provenance"]}
