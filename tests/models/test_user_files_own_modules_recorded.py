"""The modules recorded as a model file's own (a resume refuses a change to one) are those it imports from its folder,
not whatever else under that folder the process loaded: a project's own venv (its bin/hwprof, run as __main__, also
registered as __mp_main__), or a design loop's script and its helpers beside net.py, were recorded, and a reinstall or
an edit of the loop refused the resume."""

import sys
import types

import pytest

from hwprof.models import spec
from hwprof.models.spec import own_modules, resolve_model

NET = """
import sys

import torch.nn as nn

{extra}
from {blocks} import block


def build():
    model = nn.Sequential(block(4), nn.ReLU())
    model.input_shape = (4,)
    return model
"""
BLOCKS = "import torch.nn as nn\n\n\ndef block(width):\n    return nn.Linear(width, width)\n"


def _project(folder, blocks: str, extra: str = ""):
    (folder / f"{blocks}.py").write_text(BLOCKS)
    (folder / "net.py").write_text(NET.format(blocks=blocks, extra=extra))
    return folder / "net.py"


@pytest.fixture
def venv(tmp_path, monkeypatch):
    """proj/.venv as sys.prefix, with hwprof's entry script proj/.venv/bin/hwprof running as __main__."""
    prefix = tmp_path / ".venv"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "lib").mkdir()
    script = prefix / "bin" / "hwprof"
    script.write_text("from hwprof.cli import main\nmain()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setitem(sys.modules, "__mp_main__", sys.modules.get("__mp_main__", main))
    monkeypatch.setattr(sys, "prefix", str(prefix))
    spec._python_folders.cache_clear()
    yield prefix
    spec._python_folders.cache_clear()


def test_a_project_venv_entry_script_and_its_modules_are_not_the_files_imports(venv, tmp_path, monkeypatch):
    (venv / "lib" / "uf_venv_tool.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(venv / "lib"))
    # as multiprocessing registers the script Python runs once more, the first time torch's is imported
    extra = 'sys.modules["__mp_main__"] = sys.modules["__main__"]\nimport uf_venv_tool'
    path = _project(tmp_path, "uf_rec_venv_blocks", extra)
    try:
        resolve_model(f"{path}:build")
        assert set(own_modules(path)) == {"uf_rec_venv_blocks.py"}
    finally:
        sys.modules.pop("uf_venv_tool", None)
        sys.modules.pop("uf_rec_venv_blocks", None)


def test_a_design_loop_script_and_its_helper_beside_the_file_are_not_its_imports(tmp_path, monkeypatch):
    path = _project(tmp_path, "uf_rec_loop_blocks")
    (tmp_path / "uf_rec_loop_helpers.py").write_text("X = 1\n")
    (tmp_path / "driver.py").write_text("import uf_rec_loop_helpers\n")
    driver = types.ModuleType("__main__")
    driver.__file__ = str(tmp_path / "driver.py")
    monkeypatch.setitem(sys.modules, "__main__", driver)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        exec("import uf_rec_loop_helpers", driver.__dict__)  # the loop's own helper, imported before the model
        resolve_model(f"{path}:build")
        assert set(own_modules(path)) == {"uf_rec_loop_blocks.py"}
    finally:
        sys.modules.pop("uf_rec_loop_helpers", None)
        sys.modules.pop("uf_rec_loop_blocks", None)


def test_a_neighbour_the_user_imported_before_the_file_is_still_its_import(tmp_path, monkeypatch):
    """A module already in sys.modules does not come in while the file is imported: the file's globals name it."""
    path = _project(tmp_path, "uf_rec_early_blocks")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__("uf_rec_early_blocks")
        resolve_model(f"{path}:build")
        recorded = own_modules(path)
        assert set(recorded) == {"uf_rec_early_blocks.py"}
        (tmp_path / "uf_rec_early_blocks.py").write_text(BLOCKS.replace("width, width", "width, width + 1"))
        assert own_modules(path) != recorded  # an edit is seen: a resume refuses it
    finally:
        sys.modules.pop("uf_rec_early_blocks", None)
