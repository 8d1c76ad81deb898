"""A network row names its model file as measure was given it: fit from another folder says what to do."""

import pytest

from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit

FACTORY = """
import torch.nn as nn

def a():
    m = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    m.input_shape = (8,)
    return m
"""


def test_a_relative_model_file_missing_from_here_says_where_it_is_looked_for(tmp_path, monkeypatch):
    """It said only "model file 'fac.py' does not exist", though the file lies beside the dataset."""
    measured_in = tmp_path / "board"
    measured_in.mkdir()
    (measured_in / "fac.py").write_text(FACTORY)
    (measured_in / "rows.csv").write_text("model,batch_size,latency_ms\nfac.py:a,1,0.05\nfac.py:a,2,0.07\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HwprofError) as refused:
        fit([measured_in / "rows.csv"], out=tmp_path / "p.json", cv=False, run_model_files=True)
    assert "model file 'fac.py' does not exist" in str(refused.value)
    assert "run from the folder the dataset was measured in" in str(refused.value)
    monkeypatch.chdir(measured_in)
    assert fit(["rows.csv"], out=tmp_path / "p.json", cv=False, run_model_files=True) is not None
