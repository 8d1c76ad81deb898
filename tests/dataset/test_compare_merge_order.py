"""`hwprof compare` of a baseline merged from several runs does not depend on the order they were merged in."""

from fakes.runs import write_run
from hwprof.compare import compare
from hwprof.dataset import merge_datasets


def test_a_baseline_merged_in_either_order_gives_the_same_comparison(tmp_path):
    first = write_run(tmp_path / "first.parquet", sigma=0.05, seed=1)
    second = write_run(tmp_path / "second.parquet", factor=1.05, sigma=0.05, seed=2)
    new = write_run(tmp_path / "new.parquet", factor=1.02, sigma=0.05, seed=3)
    merge_datasets([first, second], tmp_path / "ab.parquet")
    merge_datasets([second, first], tmp_path / "ba.parquet")

    ab, ba = compare(tmp_path / "ab.parquet", new), compare(tmp_path / "ba.parquet", new)
    assert ab["rows"][0]["runs"] == {"base": 2, "new": 1}
    assert {**ab, "base": None} == {**ba, "base": None}  # the same intervals, to the last digit
