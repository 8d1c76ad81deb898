"""An embedding's or an index_select's int32 indices take other kernels than int64 ones, yet the two shared a config_id:
only the dtype a layer computes in (the float one) entered its config."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


class Selecting(nn.Module):
    def forward(self, x, index):
        return torch.index_select(x, 1, index)  # int32 or int64 indices, from torch 2.1 on


def layers(module: nn.Module, *inputs: torch.Tensor):
    found, _ = extract_layers_from_example(module, inputs, {})
    return found


def test_int32_indices_are_their_own_config():
    ids = torch.randint(0, 50, (2, 7))
    table = nn.Sequential(nn.Embedding(50, 8))
    (wide,), (narrow,) = layers(table, ids), layers(table, ids.int())
    assert narrow.config["index_dtypes"] == ["int32"]
    assert "index_dtypes" not in wide.config  # int64, torch's default: the config it had
    assert wide.config_id("cpu") != narrow.config_id("cpu")


def test_an_index_select_tells_its_index_dtype():
    x, index = torch.randn(3, 5), torch.randint(0, 5, (4,))
    (wide,), (narrow,) = layers(Selecting(), x, index), layers(Selecting(), x, index.int())
    assert narrow.config["index_dtypes"] == ["int32"]
    assert wide.config_id("cpu") != narrow.config_id("cpu")


def test_an_integer_op_is_named_by_its_dtype_alone():
    class Adding(nn.Module):
        def forward(self, a, b):
            return a + b

    (layer,) = layers(Adding(), torch.ones(4, dtype=torch.int32), torch.ones(4, dtype=torch.int32))
    assert layer.config["dtype"] == "int32" and "index_dtypes" not in layer.config
