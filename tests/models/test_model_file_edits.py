"""A model file edited while the process runs is imported and traced again; an unchanged one is not."""

from hwprof.models.spec import import_user_file
from hwprof.predictor.records import network_layers

SOURCE = (
    "import torch.nn as nn\n"
    "IMPORTS = []\n"
    "IMPORTS.append(1)\n"
    "def build():\n"
    "    model = nn.Sequential(nn.Linear(4, WIDTH), nn.ReLU())\n"
    "    model.input_shape = (4,)\n"
    "    return model\n"
)


def _write(path, width: int) -> None:
    path.write_text(SOURCE.replace("WIDTH", str(width)))


def _flops(path) -> float:
    return sum(record.flops for record in network_layers(f"{path}:build").records)


def test_an_edited_model_file_is_predicted_as_it_now_is(tmp_path):
    path = tmp_path / "gen.py"
    _write(path, 8)
    before = _flops(path)
    _write(path, 9)  # the same size, written within the same second: only its content tells
    assert _flops(path) == before * 9 / 8
    _write(path, 16)
    assert _flops(path) == before * 2


def test_an_edited_package_module_is_imported_again(tmp_path):
    package = tmp_path / "nets_edited"
    package.mkdir()
    (package / "__init__.py").write_text("")
    path = package / "gen.py"
    _write(path, 8)
    before = _flops(path)
    _write(path, 9)
    assert _flops(path) == before * 9 / 8


def test_an_unchanged_model_file_is_imported_and_traced_once(tmp_path):
    path = tmp_path / "same.py"
    _write(path, 8)
    module = import_user_file(path)
    first = network_layers(f"{path}:build")
    assert import_user_file(path) is module and module.IMPORTS == [1]
    assert network_layers(f"{path}:build") is first
    path.write_text(path.read_text())  # rewritten as it was: a new modification time, the same content
    assert import_user_file(path) is module
    assert network_layers(f"{path}:build") is first
