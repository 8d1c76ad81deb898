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
