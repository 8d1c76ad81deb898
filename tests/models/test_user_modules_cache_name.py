"""timm's LeViT and EfficientFormerV2 keep their attention biases in a dict they fill in their first eval forward:
the empty dict was part of the name's digest, the filled one (tensors) was not, so one module was named anew by its
first call and two runs of it were two networks."""

import torch
import torch.nn as nn

from fakes.modules import BiasCache
from hwprof.models.spec import module_name


class Settings(nn.Module):
    def __init__(self, table: dict):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.table = table


def test_a_module_keeps_its_name_once_its_forward_fills_a_cache():
    model = BiasCache()
    before = module_name(model)
    with torch.no_grad():
        model(torch.randn(1, 8))
    assert model.attention_bias_cache and module_name(model) == before
    assert module_name(BiasCache(16)) != before  # the structure is still in the name


def test_a_dict_of_settings_still_names_the_network():
    assert module_name(Settings({"depth": 2})) != module_name(Settings({"depth": 3}))
    assert module_name(Settings({})) != module_name(Settings({"depth": 2}))
