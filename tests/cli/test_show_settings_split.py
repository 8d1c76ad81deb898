"""show takes the runs of a network measured under different allocator policies or layer cache modes apart, as it
takes runs at different thread counts: one median over a cold-cache run and a warm one (or a pinned allocator and
glibc's own) is a figure of neither. Runs alike are still one network with the median of their figures."""

import json

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import merge_datasets, read_dataset, read_provenance, write_table

COLD = {"allocator": {"policy": "steady", "applied": True}, "cache": {"mode": "cold"}}
WARM = {"allocator": {"policy": "steady", "applied": True}, "cache": {"mode": "warm"}}
SYSTEM = {"allocator": {"policy": "system", "applied": True}, "cache": {"mode": "cold"}}


def run_in(path, settings, seed, factor=1.0):
    """A run of `net` under these settings, its layer rows labelled with the cache mode they were timed in."""
    write_run(path, seed=seed, factor=factor, threads=1, provenance_fields=settings)
    frame = read_dataset(path)
    frame.loc[frame["kind"] == "layer", "cache"] = "cold_partial" if settings["cache"]["mode"] == "cold" else "warm"
    write_table(path, frame, read_provenance(path))
    return path


def shown(path):
    """show's networks in --json, and its text."""
    as_json = CliRunner().invoke(main, ["show", str(path), "--json"])
    text = CliRunner().invoke(main, ["show", str(path)])
    assert as_json.exit_code == 0 and text.exit_code == 0, as_json.output + text.output
    return json.loads(as_json.output), text.output


def test_a_cold_and_a_warm_run_of_one_network_are_shown_apart_each_with_its_own_median(tmp_path):
    cold = run_in(tmp_path / "cold.parquet", COLD, seed=1)
    warm = run_in(tmp_path / "warm.parquet", WARM, seed=2, factor=2.0)
    merge_datasets([cold, warm], tmp_path / "both.parquet")
    document, text = shown(tmp_path / "both.parquet")
    networks = {entry["cache"]: entry for entry in document["networks"]}
    assert sorted(networks) == ["cold", "warm"]
    assert [networks[mode]["network_runs"] for mode in ("cold", "warm")] == [1, 1]
    alone = {mode: shown(path)[0]["networks"][0]["latency_ms"] for mode, path in (("cold", cold), ("warm", warm))}
    assert {mode: entry["latency_ms"] for mode, entry in networks.items()} == alone  # not the median of both
    assert "allocator" not in networks["cold"]  # both runs pinned it: nothing to tell apart
    assert "net cache cold" in text and "net cache warm" in text
    assert "mixed_settings" not in document and "medians over runs of each" not in text


def test_runs_under_other_allocator_policies_are_shown_apart(tmp_path):
    steady = run_in(tmp_path / "steady.parquet", COLD, seed=1)
    system = run_in(tmp_path / "system.parquet", SYSTEM, seed=2, factor=2.0)
    merge_datasets([steady, system], tmp_path / "both.parquet")
    document, text = shown(tmp_path / "both.parquet")
    assert sorted(entry["allocator"] for entry in document["networks"]) == ["steady", "system"]
    assert all("cache" not in entry for entry in document["networks"])
    assert "net allocator steady" in text and "net allocator system" in text


def test_runs_alike_still_give_one_network_with_their_median(tmp_path):
    runs = [run_in(tmp_path / f"cold{seed}.parquet", COLD, seed=seed, factor=seed) for seed in (1, 2)]
    merge_datasets(runs, tmp_path / "alike.parquet")
    document, text = shown(tmp_path / "alike.parquet")
    (entry,) = document["networks"]
    assert entry["network_runs"] == 2 and "cache" not in entry and "allocator" not in entry
    assert "(median of 2 runs)" in text
