"""BERT's standard inputs given by --input: token_type_ids and position_ids index tables far smaller than the
vocabulary, so they are not drawn over it (measure failed with 'index out of range in self')."""

import pytest
import torch

from fakes.zoo import TINY_HF
from hwprof.models.inputs import parse_input
from hwprof.models.layers import run_and_extract
from hwprof.models.tracing import trace_layers


def test_token_type_ids_are_one_segment_and_position_ids_count_the_tokens():
    types = parse_input("token_type_ids:int64[seq]", 30522).make(2, 16)
    assert torch.equal(types, torch.zeros(2, 16, dtype=torch.int64))
    positions = parse_input("position_ids:int64[seq]", 30522).make(2, 16)
    assert torch.equal(positions, torch.arange(16).expand(2, 16))
    ids = parse_input("input_ids:int64[seq]", 30522).make(2, 16)
    assert int(ids.max()) > 1  # token ids are still drawn over the vocabulary


def test_bert_measures_and_predicts_with_its_standard_inputs():
    pytest.importorskip("transformers")
    from hwprof.models.spec import resolve_model

    texts = [
        "input_ids:int64[seq]",
        "attention_mask:int64[seq]",
        "token_type_ids:int64[seq]",
        "position_ids:int64[seq]",
    ]
    spec = resolve_model("hf:bert", hf_config=TINY_HF["hf:bert"]).with_inputs(texts)
    measured, _ = run_and_extract(spec.module, spec.model_inputs, 2, seq_len=16)
    predicted = trace_layers(spec.module, spec.model_inputs, 2, seq_len=16).layers
    assert [layer.facts() for layer in measured] == [layer.facts() for layer in predicted]
    lookups = [layer for layer in measured if layer.op == "embedding"]
    assert len(lookups) == 3  # words, positions and token types
