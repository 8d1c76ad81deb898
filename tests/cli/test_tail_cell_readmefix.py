"""The p90 / p99 cell of a network timed once read "(1 samples)"."""

from hwprof.cli.measure import _tail_cell


def test_one_sample_is_singular_and_more_are_plural():
    assert _tail_cell((163.25, 163.25), 1) == "163.250 / 163.250 (1 sample)"
    assert _tail_cell((1.5, 1.75), 3) == "1.500 / 1.750 (3 samples)"
    assert _tail_cell((1.5, 1.75), 1, 2) == "1.500 / 1.750 (1 sample of 2 processes, pooled)"
