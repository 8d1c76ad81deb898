"""`hwprof compare` says when BASE and NEW timed their layers with other caches (--cache): a baseline from
before cold was the default is warm, and its layers are much faster than today's cold ones for that alone."""

from fakes.runs import write_run
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table


def with_cache(path, label):
    frame = read_dataset(path)
    frame.loc[frame["kind"] == "layer", "cache"] = label
    write_table(path, frame, read_provenance(path))
    return path


def test_a_warm_baseline_against_cold_layers_is_named(tmp_path):
    old = write_run(tmp_path / "old.parquet", seed=1)  # rows from before the cache column: warm
    cold = with_cache(write_run(tmp_path / "cold.parquet", seed=2), "cold_partial")
    assert compare(old, cold)["run_differences"] == [
        "BASE timed its layers with warm caches and NEW with cold (--cache): each layer ratio includes that change"
    ]
    also_cold = with_cache(write_run(tmp_path / "also_cold.parquet", seed=3), "cold")
    assert compare(cold, also_cold)["run_differences"] == []  # cold with fewer copies is still cold
    assert compare(old, write_run(tmp_path / "warm.parquet", seed=4))["run_differences"] == []
