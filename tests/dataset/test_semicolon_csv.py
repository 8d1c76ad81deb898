"""A CSV saved by a spreadsheet with semicolons between fields is refused in words, not with pandas'
tokenizer error."""

import pytest

from hwprof.dataset import read_dataset
from hwprof.errors import HwprofError


def test_a_semicolon_separated_csv_is_refused_saying_what_hwprof_reads(tmp_path):
    path = tmp_path / "edited.csv"
    path.write_text(
        'kind;model;batch_size;config;latency_ms\nlayer;mlp;1;{"in_features": 784, "out_features": 64};0,12\n'
    )
    with pytest.raises(HwprofError, match="is separated by semicolons.*hwprof reads comma-separated CSV"):
        read_dataset(path)
