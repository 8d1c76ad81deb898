"""compare's rows name the settings that tell them apart, as its summaries do: two rows split only by --compile
(or --channels-last) read alike in the table and in --json, where only dtype was named. A comparison of one
setting names none, as before."""

import json

import pandas as pd
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def both_ways(folder, name, seed, column):
    """A file holding `net` measured with a flag off and on (merged runs), the second run's configs tagged."""
    run_path = write_run(folder / f"{name}-run.parquet", seed=seed, with_samples=False)
    frame = read_dataset(run_path)
    other = frame.assign(**{column: True}, config=frame["config"] + ",tag", config_id=frame["config_id"] + "-2")
    path = folder / f"{name}.parquet"
    write_table(path, pd.concat([frame.assign(**{column: False}), other]), read_provenance(run_path))
    return path


def compiled_networks(path):
    """`path` as a --compile run records it: its networks compiled, its layers eager."""
    frame = read_dataset(path)
    write_table(path, frame.assign(compiled=frame["kind"].eq("network")), read_provenance(path))
    return path


def test_rows_split_by_compile_or_channels_last_are_named_with_it(tmp_path):
    for column, words in (("compiled", ("compiled", "eager")), ("channels_last", ("channels-last", "contiguous"))):
        folder = tmp_path / column
        folder.mkdir()
        base, new = both_ways(folder, "base", 1, column), both_ways(folder, "new", 2, column)
        report = json.loads(run(base, new, "--json").output)
        networks = sorted((row[column], row["layer_index"]) for row in report["rows"] if row["kind"] == "network")
        assert networks == [(False, -1), (True, -1)]
        shown = run(base, new)
        assert shown.exit_code == 0, shown.output
        for word in words:
            assert f"net batch 1 {word} network" in shown.output


def test_a_comparison_of_one_setting_names_none(tmp_path):
    base, new = (compiled_networks(write_run(tmp_path / f"{n}.parquet", seed=s)) for n, s in (("b", 1), ("n", 2)))
    report = compare(base, new)
    assert all("compiled" not in row and "channels_last" not in row for row in report["rows"])
    assert "net batch 1 network" in run(base, new).output
