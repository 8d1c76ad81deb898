"""An embedding lookup reads the rows it looks up, not its whole table: weight_bytes says so."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.inputs import SEQ, InputSpec, ModelInputs
from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Lookup(nn.Module):
    def __init__(self, rows: int, functional: bool = False) -> None:
        super().__init__()
        self.embedding = nn.Embedding(rows, 64)
        self.functional = functional

    def forward(self, input_ids):
        if self.functional:
            return F.embedding(input_ids, self.embedding.weight)
        return self.embedding(input_ids)


@pytest.mark.parametrize("functional", [False, True])
@pytest.mark.parametrize("keyword", [False, True])  # keyword inputs are recorded through hooks, positional by fx
def test_an_embedding_reads_one_row_per_token(functional, keyword):
    ids = torch.randint(0, 30522, (1, 16))
    args, kwargs = ((), {"input_ids": ids}) if keyword else ((ids,), {})
    (layer,), _ = extract_layers_from_example(Lookup(30522, functional), args, kwargs)
    assert layer.op == "embedding"
    assert layer.weight_bytes == 16 * 64 * 4  # 16 rows of 64 floats, where the table holds 30522
    assert layer.params == 30522 * 64  # the parameters are still the whole table


def test_an_embedding_reads_at_most_its_whole_table():
    (layer,), _ = extract_layers_from_example(Lookup(8), (torch.randint(0, 8, (4, 16)),), {})
    assert layer.weight_bytes == 8 * 64 * 4


def test_an_embedding_bag_reads_one_row_per_index():
    bag = nn.EmbeddingBag(1000, 32)
    (layer,), _ = extract_layers_from_example(bag, (torch.randint(0, 1000, (4, 10)),), {})
    assert layer.weight_bytes == 40 * 32 * 4


def test_prediction_on_meta_counts_the_rows_measure_counts():
    ids = ModelInputs((InputSpec(None, torch.int64, (SEQ,), 0, 30522),))
    (layer,) = trace_layers(Lookup(30522), ids, 2, label="lookup", seq_len=16).layers
    assert layer.weight_bytes == 32 * 64 * 4
