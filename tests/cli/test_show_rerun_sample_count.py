"""`show` of merged reruns gives the median of each figure over the runs, as README says: the sample count was the
fewest of any run (44 of 56, 415 and 44)."""

import json

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import merge_datasets


def test_the_sample_count_of_reruns_is_their_median(tmp_path):
    shards = [
        write_run(tmp_path / f"{count}.parquet", seed=seed, samples=count, threads=1)
        for seed, count in enumerate((56, 415, 44))
    ]
    merge_datasets(shards, tmp_path / "reruns.parquet")
    (entry,) = json.loads(CliRunner().invoke(main, ["show", str(tmp_path / "reruns.parquet"), "--json"]).output)[
        "networks"
    ]
    assert entry["network_runs"] == 3 and entry["samples"] == 56
