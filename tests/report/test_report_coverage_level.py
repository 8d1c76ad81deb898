"""The predictor table names the level of the intervals its coverage counts: `report --confidence 0.5`
showed "coverage 25.0%", a figure meaningless without its level, where evaluate says which intervals."""

from fakes.synthetic import fitted_predictor_path
from hwprof.report.page import build_report


def test_the_coverage_column_names_its_interval_level(tmp_path):
    predictor, dataset = fitted_predictor_path(tmp_path, n_networks=4, cv=False)
    build_report([dataset], tmp_path / "r.html", predictor=predictor, confidence=0.5)
    assert "<th>coverage of 50% intervals</th>" in (tmp_path / "r.html").read_text()
