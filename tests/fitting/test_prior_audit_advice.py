"""fit --prior keeps the fleet board's layer models, so a sweep of the new board's layers would change nothing:
none is advised (the families note, about the network model, stays)."""

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit

LATENCY_COLUMNS = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"]


def test_a_prior_fit_that_keeps_the_fleet_s_layer_models_advises_no_sweep(tmp_path):
    fleet = write(synthetic_frame(n_networks=10, seed=50, device="fast"), tmp_path / "fleet.parquet")
    small = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"), device="new")
    small[LATENCY_COLUMNS] = small[LATENCY_COLUMNS] * 1.7
    small = write(small, tmp_path / "small.parquet")
    assert any("sweep:" in w for w in fit([small], cv=False).doc["training"]["warnings"])  # fitted alone, it would
    predictor = fit([small], prior=[fleet], cv=False)
    assert predictor.doc["training"]["prior"]["how"] in ("scaled", "adapted")
    warnings = predictor.doc["training"]["warnings"]
    assert warnings and not any("sweep:" in w for w in warnings)
