"""A gate that tested nothing named "measure more networks, or with a longer --max-time" although its rows said
why they were untested (two runs against one): following it changed nothing. The rows' own reason names the
remedy."""

import numpy as np
from click.testing import CliRunner

from fakes.runs import synthetic_row
from hwprof.cli import main
from hwprof.dataset import DatasetWriter, merge_datasets
from hwprof.samples import RawSamples


def network_run(path, seed, median_s):
    """A run of one network measured alone (`--no-layers`), 40 samples around `median_s`."""
    drawn = tuple(float(x) for x in median_s * np.exp(np.random.default_rng(seed).normal(0.0, 0.02, 40)))
    with DatasetWriter(path, {"run_id": f"run-{seed}"}) as writer:
        writer.write([synthetic_row("net", -1, drawn)], RawSamples.uniform(drawn, 10))
    return path


def test_two_runs_against_one_name_the_third_run_not_a_longer_max_time(tmp_path):
    shards = [network_run(tmp_path / f"r{seed}.parquet", seed, 1e-3) for seed in (1, 2)]
    merge_datasets(shards, tmp_path / "base2.parquet")
    new = network_run(tmp_path / "r3.parquet", 3, 0.5e-3)  # it fell: no row rose past the gate
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "base2.parquet"), str(new), "--fail-above", "5%"])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert "two runs against one" in last and "merge a third run into the side of two" in last
    assert "longer --max-time" not in last
