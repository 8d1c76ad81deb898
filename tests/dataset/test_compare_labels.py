"""compare names each row as show does: a network measured at two sequence lengths or dtypes is two rows."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.compare import compare, label
from hwprof.dataset import read_dataset, read_provenance, write_table


def measured_twice(folder, name, factor, seed, column, values, tag):
    """A run whose every row was measured at two values of `column` (two configurations, as two lengths are)."""
    run = write_run(folder / f"{name}-run.parquet", factor=factor, seed=seed, with_samples=False)
    frame = read_dataset(run)
    first, second = values
    both = pd.concat(
        [frame.assign(**{column: first}), frame.assign(**{column: second}, config=frame["config"] + f",{tag}")]
    )
    path = folder / f"{name}.parquet"
    write_table(path, both, read_provenance(run))
    return path


def test_rows_at_two_sequence_lengths_are_labelled_and_keyed_by_their_length(tmp_path):
    base = measured_twice(tmp_path, "base", 1.0, 1, "seq_len", (16, 64), "seq=64")
    new = measured_twice(tmp_path, "new", 1.1, 2, "seq_len", (16, 64), "seq=64")
    report = compare(base, new)
    networks = [row for row in report["rows"] if row["kind"] == "network"]
    assert [row["seq_len"] for row in networks] == [16, 64]
    assert [label(row) for row in networks] == ["net seq 16 batch 1 network", "net seq 64 batch 1 network"]
    layers = [label(row) for row in report["rows"] if row["kind"] == "layer"]
    assert len(set(layers)) == len(layers)  # no layer row repeats another's name
    assert "dtype" not in networks[0]  # one dtype: nothing to tell apart
    shown = CliRunner().invoke(main, ["compare", str(base), str(new), "--json"])
    assert json.loads(shown.output)["rows"][0]["seq_len"] == 16


def test_rows_in_two_dtypes_carry_their_dtype(tmp_path):
    base = measured_twice(tmp_path, "base", 1.0, 1, "dtype", ("float32", "bfloat16"), "bf16")
    new = measured_twice(tmp_path, "new", 1.1, 2, "dtype", ("float32", "bfloat16"), "bf16")
    networks = [row for row in compare(base, new)["rows"] if row["kind"] == "network"]
    assert sorted(row["dtype"] for row in networks) == ["bfloat16", "float32"]
    assert sorted(label(row) for row in networks) == ["net batch 1 bfloat16 network", "net batch 1 float32 network"]
    assert networks[0]["seq_len"] is None


def test_the_interval_of_a_ratio_of_medians_of_few_even_samples_is_the_standard_bootstrap_s():
    """The ratio is of ordinary medians (the mean of the middle two of an even count): so are the resamples'."""
    import numpy as np

    from hwprof.compare import _sample_test

    rng = np.random.default_rng(9)
    base, new = rng.lognormal(0.0, 1.0, 6), rng.lognormal(2.0, 1.0, 6)
    result = _sample_test([base], [new], seed=["row"])
    draws = rng.integers(0, 6, size=(2, 200000, 6))
    ratios = np.median(new[draws[0]], axis=1) / np.median(base[draws[1]], axis=1)
    low, high = np.quantile(ratios, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, rel=0.05) and result["ci_high"] == pytest.approx(high, rel=0.05)
