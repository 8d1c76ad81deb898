"""Every attribute of a layer's recipe (TensorSpec) and of the stacked layer models is read somewhere: one only
written is a figure nobody checks, which a reader takes for one that matters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {
    "TensorSpec": ROOT / "hwprof/models/layers.py",
    "StackedLayerModels": ROOT / "hwprof/predictor/layer_model.py",
}


def attributes(path: Path, class_name: str) -> set[str]:
    """The fields a class declares and the attributes its methods set on self."""
    (cls,) = (node for node in ast.walk(ast.parse(path.read_text())) if getattr(node, "name", None) == class_name)
    found = {
        node.target.id for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and getattr(node.value, "id", "") == "self"
        ):
            found.add(node.attr)
    return found


def read_names() -> set[str]:
    """Every attribute name hwprof reads (`x.name`), passes by keyword or spells as a string (getattr, replace)."""
    found = set()
    for path in (ROOT / "hwprof").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                found.add(node.attr)
            elif isinstance(node, ast.keyword) and node.arg:
                found.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


@pytest.mark.parametrize("class_name", sorted(CLASSES))
def test_every_attribute_is_read(class_name):
    unread = attributes(CLASSES[class_name], class_name) - read_names()
    assert not unread, f"{class_name} sets {sorted(unread)}, which nothing reads"
