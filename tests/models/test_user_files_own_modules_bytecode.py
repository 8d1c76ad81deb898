"""Importing a model file and building its model leave sys.dont_write_bytecode as the process has it: it was set
around both, and two threads importing at once (measure in one, predict in another) could leave it set for good.
An edited module of the user's is still read from its new source (test_user_files_own_modules)."""

import sys

from hwprof.models.spec import import_user_file, resolve_model

NET = """
import sys

import torch.nn as nn

import uf_bytecode_blocks

SEEN = [sys.dont_write_bytecode]


def build():
    SEEN.append(sys.dont_write_bytecode)
    model = nn.Sequential(nn.Linear(4, uf_bytecode_blocks.WIDTH), nn.ReLU())
    model.input_shape = (4,)
    return model
"""


def test_importing_and_building_leave_the_bytecode_setting_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as Python runs unless told otherwise
    (tmp_path / "uf_bytecode_blocks.py").write_text("WIDTH = 8\n")
    path = tmp_path / "net.py"
    path.write_text(NET)
    try:
        resolve_model(f"{path}:build")
        assert import_user_file(path).SEEN == [False, False]
    finally:
        sys.modules.pop("uf_bytecode_blocks", None)
    assert sys.dont_write_bytecode is False
