"""compare names every network row only one side holds, with its setting, in the table and in --json: when NEW
ran with --compile and BASE did not, the eager network only BASE measured went unnamed, as NEW's eager layers
held its model, and the two networks read alike."""

import json

from click.testing import CliRunner

from fakes.runs import DEVICE_NAME, LAYERS, write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def compiled_networks(path):
    """`path` as a --compile run records it: its networks compiled, its layers eager."""
    frame = read_dataset(path)
    write_table(path, frame.assign(compiled=frame["kind"].eq("network")), read_provenance(path))
    return path


def test_the_eager_network_only_base_measured_is_named_against_new_compiled_one(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, with_samples=False)
    new = compiled_networks(write_run(tmp_path / "new.parquet", seed=2, with_samples=False))
    report = compare(base, new)
    assert len(report["rows"]) == LAYERS  # the eager layers pair
    assert [(e["model"], e["compiled"], e["batch_size"]) for e in report["networks_only_in_base"]] == [
        ("net", False, 1)
    ]
    assert [(e["model"], e["compiled"]) for e in report["networks_only_in_new"]] == [("net", True)]
    assert report["networks_only_in_base"][0]["device_name"] == DEVICE_NAME
    assert report["networks_only_in_base"][0]["latency_ms"] > 0
    shown = run(base, new)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert any("net batch 1 eager network" in line and "only in BASE" in line for line in lines), shown.output
    assert any("net batch 1 compiled network" in line and "only in NEW" in line for line in lines), shown.output
    listed = json.loads(run(base, new, "--json").output)
    assert listed["networks_only_in_base"] == report["networks_only_in_base"]


def test_runs_of_one_setting_have_no_network_only_in_one_side(tmp_path):
    base, new = (compiled_networks(write_run(tmp_path / f"{n}.parquet", seed=s)) for n, s in (("b", 1), ("n", 2)))
    report = compare(base, new)
    assert report["networks_only_in_base"] == report["networks_only_in_new"] == []
    assert not any("│" in line and "only in" in line for line in run(base, new).output.splitlines())


def test_a_model_new_lacks_has_its_networks_named(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, models=("net", "gone"), with_samples=False)
    new = write_run(tmp_path / "new.parquet", seed=2, with_samples=False)
    report = compare(base, new)
    assert [(e["model"], sorted(e)) for e in report["networks_only_in_base"]] == [
        ("gone", ["batch_size", "device_name", "kind", "latency_ms", "model", "runs", "seq_len"])
    ]
    assert any("gone batch 1 network" in line and "only in BASE" in line for line in run(base, new).output.splitlines())
