"""Token ids given by --input for a user's factory, which names no vocabulary: drawn over the ids it takes."""

import torch
import torch.nn as nn

from hwprof.models.inputs import from_examples, parse_input, token_id_limit


class Spy(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(5000, 32)
        self.positions = nn.Embedding(512, 32)
        self.linear = nn.Linear(32, 32)

    def forward(self, input_ids, attention_mask=None):
        return self.linear(self.embedding(input_ids))


def test_without_examples_ids_are_drawn_below_the_smallest_embedding():
    limit = token_id_limit(Spy())
    assert limit == 512  # below the position table too: an id of it indexes every embedding
    ids = parse_input("input_ids:int64[seq]", limit).make(1, 256)
    assert int(ids.max()) < 512 and ids.unique().numel() > 2  # not only 0 and 1
    mask = parse_input("attention_mask:int64[seq]", limit).make(1, 256)
    assert torch.equal(mask, torch.ones_like(mask))


def test_the_factorys_own_example_ids_give_their_range():
    examples = from_examples({"input_ids": torch.tensor([[18, 4717, 30]]), "attention_mask": torch.ones(1, 3)})
    assert token_id_limit(Spy(), examples) == 4718


def test_a_model_without_embeddings_or_example_ids_has_no_limit():
    assert token_id_limit(nn.Linear(4, 4), from_examples(torch.randn(1, 4))) is None
    assert parse_input("ids:int64[4]", None).high == 2  # what a model naming no vocabulary is drawn from


def test_a_factory_measured_with_input_flags_is_fed_ids_across_its_vocabulary(tmp_path, monkeypatch):
    """The README's `my_lm.py:build --input input_ids:int64[seq]`: a factory names no vocabulary, and its ids
    were 0 and 1 only, two embedding rows that stay in cache."""
    from hwprof.models.spec import resolve_model

    (tmp_path / "spy_lm.py").write_text(
        "import torch.nn as nn\n"
        "class Spy(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.embedding, self.positions = nn.Embedding(5000, 32), nn.Embedding(512, 32)\n"
        "    def forward(self, input_ids, attention_mask=None):\n"
        "        return self.embedding(input_ids)\n"
        "def build():\n"
        "    return Spy()\n"
    )
    monkeypatch.chdir(tmp_path)
    spec = resolve_model("spy_lm.py:build", inputs=["input_ids:int64[seq]", "attention_mask:int64[seq]"])
    ids, mask = (described.make(1, 256) for described in spec.inputs.specs)
    assert int(ids.max()) < 512 and ids.unique().numel() > 100
    assert torch.equal(mask, torch.ones_like(mask))
