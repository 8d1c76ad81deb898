"""A float32 model with only some layers in float16 (a float16 embedding table, upcast before float32 layers) gets
no interval from a float32 predictor, and its note names those layers and says to measure the model as it is: the
--dtype float16 the note gave for a model wholly in float16 converts the whole model, which then fails."""

import re

import pytest
import torch
from torch import nn

from fakes.synthetic import fitted_predictor_path
from hwprof.predictor.predictor import load_predictor


class HalfEmbedding(nn.Module):
    """A float16 embedding table (to save memory), float32 compute."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(100, 16).half()
        self.fc = nn.Linear(16, 4)

    def forward(self, ids):
        return self.fc(self.embedding(ids).float())


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    return load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)[0])


def _note(prediction) -> str:
    return next(warning for warning in prediction.warnings if warning.startswith("no interval"))


def test_a_float32_model_with_a_float16_embedding_is_told_to_be_measured_as_it_is(predictor):
    prediction = predictor.predict(HalfEmbedding().eval(), inputs=torch.randint(0, 100, (1, 8)))
    assert prediction.novelty["untrained_setting"] == "float16" and not prediction.has_interval("latency_ms")
    note = _note(prediction)
    assert "it has 2 layers (embedding, float) in float16, which the predictor has no data in" in note
    command = re.search(r"`(hwprof measure [^`]*)`", note).group(1)
    assert "measure the model as it is" in note and "--dtype" not in command


def test_a_model_wholly_in_float16_keeps_the_dtype_advice(predictor):
    note = _note(predictor.predict("mlp", dtype="float16"))
    assert "the predictor has no data in float16" in note
    assert re.search(r"`hwprof measure MODELS --dtype float16[^`]*`", note)
