"""fit says what the data lacks (too few families, ops without enough configurations) and how to fix it."""

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.progress import Notes


def test_too_few_families_and_thin_ops_are_named_with_the_command_that_fixes_them(tmp_path):
    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"))
    said = []
    predictor = fit([write(frame, tmp_path / "small.parquet")], cv=False, progress=Notes(said.append))
    warnings = predictor.doc["training"]["warnings"]
    (families,) = [w for w in warnings if "famil" in w]
    assert "2 families (alpha, beta)" in families and "hwprof measure" in families
    thin = [w for w in warnings if "distinct measured layer configurations" in w]
    assert thin and "sweep:" in thin[0]
    assert all(f"note: {w}" in said for w in warnings)


def test_data_with_enough_families_and_configurations_gets_no_advice(tmp_path):
    frame = synthetic_frame(n_networks=40, seed=9)
    predictor = fit([write(frame, tmp_path / "rich.parquet")], family="polynomial", cv=False)
    assert predictor.doc["training"]["warnings"] == []
