"""compare's per-op summary: two networks of one input shape are two measurements, not one."""

from fakes.runs import write_run
from hwprof.compare import compare

MODELS = tuple(f"net{k}" for k in range(6))


def test_every_network_counts_in_the_network_summary_and_is_tested(tmp_path):
    """Network rows were told apart by op and config only, and every network of one input shape has the same
    config: the 'network' line showed the first network's ratio, '1 row', untested."""
    base = write_run(tmp_path / "base.parquet", seed=1, models=MODELS)
    new = write_run(tmp_path / "new.parquet", factor=1.10, seed=2, models=MODELS)
    report = compare(base, new)
    (network,) = [entry for entry in report["ops"] if entry["op"] == "network"]
    assert network["latency_ms"]["rows"] == len(MODELS)
    assert network["latency_ms"]["verdict"] == "higher"
    assert 1.07 < network["latency_ms"]["ratio"] < 1.13
    (linear,) = [entry for entry in report["ops"] if entry["op"] == "linear"]
    assert linear["latency_ms"]["rows"] == 8  # a layer configuration the networks share is one measurement


def test_a_geometric_mean_of_unchanged_rows_is_called_changed_about_as_often_as_its_level_says():
    """A percentile bootstrap of a few rows' mean log ratio is too narrow: it called 10-14% of unchanged
    reruns higher or lower at a 5% level (about 13% for six rows), and tripped --fail-above on them."""
    import numpy as np
    import pandas as pd

    from hwprof.compare import _summaries

    rng = np.random.default_rng(0)
    sets, rows_per_set = 400, 6
    rows, records = [], []
    for k in range(sets):
        for ratio in np.exp(rng.normal(0.0, 0.01, rows_per_set)):
            records.append({"device_name": "cpu", "model": f"m{k}", "batch_size": 1, "kind": "layer", "op": "linear"})
            records[-1].update(config=f"c{len(rows)}", _whole_model="", _row=len(rows))
            rows.append({"latency_ms": {"ratio": float(ratio)}})
    summaries = _summaries(rows, pd.DataFrame(records), "model", ["latency_ms"])
    changed = sum(entry["latency_ms"]["verdict"] != "not significant" for entry in summaries)
    assert len(summaries) == sets and 0.02 * sets <= changed <= 0.085 * sets
