"""compare's per-model and per-op summaries are per setting, as rows are paired: pooled, a float32 and a
bfloat16 run of a model in each file gave one geometric mean over both, so a bfloat16-only regression was
diluted by the unchanged float32 rows and passed the gate. A comparison of one setting reads as before."""

import json
import re

import pandas as pd
from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table

BF16_LAYERS_FACTOR = 1.3  # NEW's bfloat16 layers; a pooled mean of it and 1.0 is about 1.14, below the gate


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def two_dtypes(folder, name, seed, bf16_layers=1.0, column="dtype", values=("float32", "bfloat16")):
    """A file holding a run of `net` at two values of a setting (float32 and bfloat16 by default), its second
    setting's layer rows `bf16_layers` times slower; no raw samples, as the summaries need none."""
    run_path = write_run(folder / f"{name}-run.parquet", seed=seed, with_samples=False)
    frame = read_dataset(run_path)
    first, second = values
    other = frame.assign(**{column: second}, config=frame["config"] + ",tag", config_id=frame["config_id"] + "-2")
    layers = other["kind"].eq("layer")
    other.loc[layers, "latency_ms"] = other.loc[layers, "latency_ms"] * bf16_layers
    path = folder / f"{name}.parquet"
    write_table(path, pd.concat([frame.assign(**{column: first}), other]), read_provenance(run_path))
    return path


def test_summaries_are_per_dtype_and_a_bf16_only_regression_fails_the_gate(tmp_path):
    base = two_dtypes(tmp_path, "base", 1)
    new = two_dtypes(tmp_path, "new", 2, bf16_layers=BF16_LAYERS_FACTOR)
    report = compare(base, new, fail_above=0.15)
    ops = {(entry["op"], entry["dtype"]): entry["latency_ms"] for entry in report["ops"]}
    assert set(ops) == {(op, dtype) for op in ("linear", "network") for dtype in ("bfloat16", "float32")}
    assert ops["linear", "bfloat16"]["rows"] == ops["linear", "float32"]["rows"] == LAYERS
    assert abs(ops["linear", "bfloat16"]["ratio"] - BF16_LAYERS_FACTOR) < 0.05
    assert abs(ops["linear", "float32"]["ratio"] - 1) < 0.05
    models = {entry["dtype"]: entry["latency_ms"]["rows"] for entry in report["models"]}
    assert models == {"bfloat16": LAYERS + 1, "float32": LAYERS + 1}
    labels = sorted(regression["label"] for regression in report["gate"]["regressions"])
    assert labels == ["model net bfloat16", "op linear bfloat16"]

    gated = run(base, new, "--fail-above", "15%")
    assert gated.exit_code == 1, gated.output
    assert "regression: op linear bfloat16 latency +" in gated.output
    assert re.search(r"│ linear bfloat16 +│ 8 ", gated.output) and re.search(r"│ net float32 +│ 9 ", gated.output)
    shown = json.loads(run(base, new, "--json").output)
    assert {(entry["model"], entry["dtype"]) for entry in shown["models"]} == {("net", "bfloat16"), ("net", "float32")}


def test_channels_last_and_contiguous_runs_are_summarised_apart(tmp_path):
    values = (False, True)
    base = two_dtypes(tmp_path, "base", 1, column="channels_last", values=values)
    new = two_dtypes(tmp_path, "new", 2, column="channels_last", values=values)
    report = compare(base, new)
    assert sorted((entry["model"], entry["channels_last"]) for entry in report["models"]) == [
        ("net", False),
        ("net", True),
    ]
    shown = run(base, new)
    assert re.search(r"│ net channels-last +│ 9 ", shown.output) and re.search(r"│ net contiguous +│ 9 ", shown.output)


def test_one_setting_and_a_compiled_run_are_summarised_as_before(tmp_path):
    """A compiled run's layers are eager (compiled false) and its networks compiled: one setting all the same."""
    base, new = (write_run(tmp_path / f"{name}.parquet", seed=seed) for name, seed in (("base", 1), ("new", 2)))
    for path in (base, new):
        frame = read_dataset(path)
        write_table(path, frame.assign(compiled=frame["kind"].eq("network")), read_provenance(path))
    report = compare(base, new)
    assert [(entry["model"], sorted(entry)) for entry in report["models"]] == [
        ("net", ["device_name", "latency_ms", "model"])
    ]
    assert sorted(entry["op"] for entry in report["ops"]) == ["linear", "network"]
    assert re.search(r"│ net +│ 9 ", run(base, new).output)
