"""A zoo model whose constructor cannot run on meta tensors (torchvision's RegNets compute their widths in tensors)
is built with real weights instead: the prediction's note says so, as it says a real trace, where it said nothing
and the model looked built without weights."""

import pytest
import torch
import torch.nn as nn

from hwprof.models import sources
from hwprof.models.inputs import ModelInputs
from hwprof.predictor import records


def fake_build(text, overrides=None):
    """A zoo model whose constructor reads a tensor's value, which a meta tensor has none of."""
    widths = torch.tensor([4.0, 8.0])
    width = int(widths[0].item())  # raises on meta
    module = nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU()).eval()
    return sources.Built(text, module, ModelInputs.from_shape((3, 8, 8)), "fake")


@pytest.fixture
def zoo(monkeypatch):
    monkeypatch.setattr(sources, "build", fake_build)
    records.clear_cache()
    yield "torchvision:fake_regnet"
    records.clear_cache()


def test_a_zoo_model_built_with_real_weights_says_so(zoo):
    traced = records.network_layers(zoo)
    assert traced.traced_on == "meta"
    assert traced.note == (
        "built with real weights, since torchvision:fake_regnet cannot be built on meta tensors; traced on meta "
        "tensors (no arithmetic)"
    )
    assert "\n" not in traced.note


def test_a_model_built_on_meta_has_no_note():
    records.clear_cache()
    assert records.network_layers("mlp").note == ""
