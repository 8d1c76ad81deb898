"""A model file that imports a module of the user's beside it (net.py imports blocks.py) is imported and traced
again once that module is edited, in a process that keeps predicting it (a design loop): the cached module and
trace kept the old blocks.py, a wider layer predicted as the narrow one."""

import sys

from hwprof.models.spec import import_user_file, model_file_digest
from hwprof.predictor.records import network_layers

NET = """
import torch.nn as nn

import {blocks}


def build():
    model = nn.Sequential(nn.Linear(4, {blocks}.WIDTH), nn.ReLU())
    model.input_shape = (4,)
    return model
"""
LAZY = """
import torch.nn as nn


def build():
    import {blocks}  # imported when the model is built

    model = nn.Sequential(nn.Linear(4, {blocks}.WIDTH), nn.ReLU())
    model.input_shape = (4,)
    return model
"""


def _write(folder, source: str, blocks: str, width: int):
    (folder / f"{blocks}.py").write_text(f"WIDTH = {width}\n")
    path = folder / "net.py"
    path.write_text(source.format(blocks=blocks))
    return path


def _flops(path) -> float:
    return sum(record.flops for record in network_layers(f"{path}:build").records)


def test_an_edited_neighbour_is_imported_and_traced_again(tmp_path):
    path = _write(tmp_path, NET, "uf_blocks_top", 8)
    before = _flops(path)
    module = import_user_file(path)
    (tmp_path / "uf_blocks_top.py").write_text("WIDTH = 9\n")  # the same size, within the same second
    assert _flops(path) == before * 9 / 8
    assert import_user_file(path) is not module
    assert sys.modules["uf_blocks_top"].WIDTH == 9


def test_a_neighbour_imported_when_the_model_is_built_is_followed_too(tmp_path):
    path = _write(tmp_path, LAZY, "uf_blocks_lazy", 8)
    before = _flops(path)
    digest = model_file_digest(f"{path}:build")
    (tmp_path / "uf_blocks_lazy.py").write_text("WIDTH = 16\n")
    assert model_file_digest(f"{path}:build") != digest
    assert _flops(path) == before * 2


def test_an_unchanged_neighbour_keeps_the_module_and_its_trace(tmp_path):
    path = _write(tmp_path, NET, "uf_blocks_same", 8)
    _flops(path)
    module, traced = import_user_file(path), network_layers(f"{path}:build")
    (tmp_path / "uf_blocks_same.py").write_text("WIDTH = 8\n")  # rewritten as it was
    assert import_user_file(path) is module
    assert network_layers(f"{path}:build") is traced


def test_a_neighbour_rewritten_within_the_second_at_its_size_is_read_from_its_source(tmp_path, monkeypatch):
    """Python's bytecode cache tells an edit by the second and the size it was written at: a cache written at
    the first import read the edit back as it was."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as Python runs unless told otherwise
    path = _write(tmp_path, NET, "uf_blocks_quick", 8)
    import_user_file(path)
    (tmp_path / "uf_blocks_quick.py").write_text("WIDTH = 9\n")
    assert import_user_file(path).uf_blocks_quick.WIDTH == 9
    assert sys.dont_write_bytecode is False
