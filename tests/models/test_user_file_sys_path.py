"""A model file's folder is on sys.path only while hwprof imports the file and builds its model: a host's own
imports afterwards never find the factory's neighbours."""

import importlib.util
import sys

import pytest

from hwprof.errors import HwprofError
from hwprof.models.spec import resolve_model

GOOD = """
import torch.nn as nn

import {top}


def build():
    import {lazy}  # a neighbour imported only when the model is built

    model = nn.Sequential(nn.Linear({top}.WIDTH, {lazy}.WIDTH), nn.ReLU())
    model.input_shape = ({top}.WIDTH,)
    return model
"""


def test_a_model_file_that_fails_to_import_leaves_sys_path_as_it_was(tmp_path):
    """fac/bad.py raised, and fac/ stayed first on sys.path: a host's `import utils` then got fac/utils.py."""
    (tmp_path / "h1_fails_utils.py").write_text("WIDTH = 8\n")
    (tmp_path / "bad.py").write_text("raise RuntimeError('broken')\n")
    before = list(sys.path)
    with pytest.raises(HwprofError, match="importing .*bad.py failed: RuntimeError: broken"):
        resolve_model(f"{tmp_path / 'bad.py'}:build")
    assert sys.path == before
    assert importlib.util.find_spec("h1_fails_utils") is None


def test_a_model_file_imports_its_neighbours_and_leaves_sys_path_as_it_was(tmp_path):
    (tmp_path / "h1_top_utils.py").write_text("WIDTH = 8\n")
    (tmp_path / "h1_lazy_utils.py").write_text("WIDTH = 4\n")
    (tmp_path / "good.py").write_text(GOOD.format(top="h1_top_utils", lazy="h1_lazy_utils"))
    before = list(sys.path)
    spec = resolve_model(f"{tmp_path / 'good.py'}:build")
    assert spec.input_shape == (8,) and spec.module[0].out_features == 4
    assert sys.path == before
    sys.modules.pop("h1_top_utils", None)
    sys.modules.pop("h1_lazy_utils", None)
    assert importlib.util.find_spec("h1_top_utils") is None
