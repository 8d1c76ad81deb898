"""Space files as Windows users write them: a drive letter before the path, UTF-8 text in a cp1252 locale."""

import pathlib

import pytest
import yaml

from fakes.search_doubles import TOY_SPACE
from hwprof.errors import HwprofError
from hwprof.search.space import load_space

NET = "def build(width, head):\n    from fakes.search_doubles import build_toy\n\n    return build_toy(width, head)\n"


@pytest.fixture
def cp1252_locale(monkeypatch):
    """Windows' default text encoding (Python 3.11, UTF-8 mode off): a read without an encoding is cp1252."""
    read_text = pathlib.Path.read_text

    def windows_read_text(self, encoding=None, errors=None):
        return read_text(self, encoding=encoding or "cp1252", errors=errors)

    monkeypatch.setattr(pathlib.Path, "read_text", windows_read_text)


def test_a_python_space_after_a_drive_letter_is_found_with_its_name(tmp_path, monkeypatch):
    """`hwprof search C:/m/space.py:SPACE` looked for a file called 'C'."""
    (tmp_path / "C:" / "m").mkdir(parents=True)
    (tmp_path / "C:" / "m" / "space.py").write_text(f"SMALL = {TOY_SPACE!r}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_space("C:/m/space.py:SMALL").name == "toy"
    with pytest.raises(HwprofError, match="defines no SPACE"):
        load_space("C:/m/space.py")


def test_a_utf8_yaml_space_with_accents_and_a_bom_loads_in_a_cp1252_locale(tmp_path, cp1252_locale):
    """A comment '# 幅の候補' was a UnicodeDecodeError reported as a bug, and 'modèles/net.py' not found."""
    (tmp_path / "modèles").mkdir()
    (tmp_path / "modèles" / "net.py").write_text(NET, encoding="utf-8")
    space = {**TOY_SPACE, "factory": "modèles/net.py:build"}
    text = "# 幅の候補\n" + yaml.safe_dump(space, allow_unicode=True)
    (tmp_path / "space.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    loaded = load_space(str(tmp_path / "space.yaml"))
    assert loaded.factory_ref == "modèles/net.py:build"
    assert type(loaded.factory(width=4, head="wide")).__name__ == "ToyNet"


def test_a_yaml_space_that_is_not_utf8_is_refused_in_one_sentence(tmp_path):
    (tmp_path / "space.yaml").write_bytes("# largeur du réseau\n".encode("cp1252") + yaml.safe_dump(TOY_SPACE).encode())
    with pytest.raises(HwprofError, match=r"space\.yaml is not UTF-8 text: save it as UTF-8"):
        load_space(str(tmp_path / "space.yaml"))
