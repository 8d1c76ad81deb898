"""merge warns once when runs it combines of one network were measured under different allocator policies or
layer cache modes, which show takes apart; show's run line names an allocator or cache mode that is not measure's
default."""

import json

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table

COLD = {"allocator": {"policy": "steady", "applied": True}, "cache": {"mode": "cold"}}
WARM = {"allocator": {"policy": "system", "applied": True}, "cache": {"mode": "warm"}}


def run_in(path, settings, seed, threads=1):
    """A run of `net` under these settings, its layer rows labelled with the cache mode they were timed in."""
    write_run(path, seed=seed, threads=threads, provenance_fields=settings)
    frame = read_dataset(path)
    frame.loc[frame["kind"] == "layer", "cache"] = settings["cache"]["mode"]
    write_table(path, frame, read_provenance(path))
    return path


def test_merge_warns_once_and_show_notes_runs_of_other_settings_in_one_median(tmp_path):
    cold = run_in(tmp_path / "cold.parquet", COLD, seed=1)
    warm = run_in(tmp_path / "warm.parquet", WARM, seed=2)
    summary = merge_datasets([cold, warm], tmp_path / "both.parquet")
    assert summary["warnings"] == [
        "The shards measured net under different allocator policies (steady: cold.parquet; system: warm.parquet) "
        "and cache modes (cold: cold.parquet; warm: warm.parquet), which show takes apart but fit takes as repeats "
        "of one measurement, so its medians mix the two; merge shards measured with one allocator policy and one "
        "cache mode."
    ]
    ids = {run["cache"]["mode"]: run["run_id"][:8] for run in read_provenance(tmp_path / "both.parquet")}
    shown = CliRunner().invoke(main, ["show", str(tmp_path / "both.parquet")]).output
    as_json = json.loads(CliRunner().invoke(main, ["show", str(tmp_path / "both.parquet"), "--json"]).output)
    # show takes them apart (tests/cli/test_show_settings_split.py): no median mixes them, and no note is needed
    assert "note: this dataset measured" not in shown and "mixed_settings" not in as_json
    assert sorted((entry["allocator"], entry["cache"]) for entry in as_json["networks"]) == [
        ("steady", "cold"),
        ("system", "warm"),
    ]
    lines = {line.split()[1]: line for line in shown.splitlines() if line.startswith("run ")}
    assert "1 thread, power unavailable, allocator system, cache warm, hwprof" in lines[ids["warm"]]
    assert "1 thread, power unavailable, hwprof" in lines[ids["cold"]]  # steady and cold, the defaults


def test_runs_alike_or_apart_are_merged_and_shown_without_a_word(tmp_path):
    same = [run_in(tmp_path / f"cold{seed}.parquet", COLD, seed=seed) for seed in (1, 2)]
    assert merge_datasets(same, tmp_path / "alike.parquet")["warnings"] == []
    shown = CliRunner().invoke(main, ["show", str(tmp_path / "alike.parquet")]).output
    assert "note: this dataset measured" not in shown
    as_json = CliRunner().invoke(main, ["show", str(tmp_path / "alike.parquet"), "--json"]).output
    assert [entry["network_runs"] for entry in json.loads(as_json)["networks"]] == [2]
    # show splits runs at other thread counts, and fit refuses them: no median mixes their settings
    apart = [run_in(tmp_path / "one.parquet", COLD, seed=3), run_in(tmp_path / "two.parquet", WARM, seed=4, threads=2)]
    assert merge_datasets(apart, tmp_path / "apart.parquet")["warnings"] == []
