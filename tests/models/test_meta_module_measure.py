"""A module built on the meta device has shapes and no values: measure refuses it in one sentence (predict,
which traces on meta anyway, takes it), where it failed inside torch with "Cannot copy out of meta tensor"."""

import pytest
import torch

from hwprof.errors import HwprofError
from hwprof.measuring.session import measure
from hwprof.models.inputs import check_module_weights


def meta_net():
    with torch.device("meta"):
        return torch.nn.Sequential(torch.nn.Linear(16, 4), torch.nn.BatchNorm1d(4))


def test_measure_refuses_a_module_built_on_meta_in_one_sentence(tmp_path):
    with pytest.raises(HwprofError, match=r"holds meta tensors \(no data\).*build it on the CPU.*or use predict"):
        measure([(meta_net(), torch.randn(1, 16))], power="none", sweep_share=0, out=tmp_path / "m.parquet")
    assert list(tmp_path.iterdir()) == []


def test_predict_takes_meta_weights():
    check_module_weights(meta_net(), "float32", "net", "predict")
