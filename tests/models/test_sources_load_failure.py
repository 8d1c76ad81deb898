"""A zoo package that is installed but raises on import (PyPI's CUDA torchvision beside a +cpu torch) made every
torchvision:, timm: and hf: model "hwprof failed unexpectedly ... this is a bug", and the source still read as
installed. It is now one sentence naming the package, its version, the torch it does not load with, the import
error and the reinstall; hf: too, since transformers imports torchvision."""

import importlib.util
import sys
import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch.torch_version import TorchVersion

from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.models.sources import SOURCES

ZOO = ("torchvision", "timm", "transformers")
NMS = "operator torchvision::nms does not exist"


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """Writes packages ahead of the installed ones on sys.path, each with a version pip would report; the zoo's
    modules already imported are set aside for the test and put back after it."""
    for name in [name for name in sys.modules if name.partition(".")[0] in ZOO]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, version: str, code: str = "") -> None:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(textwrap.dedent(code))
        (tmp_path / f"{name}-{version}.dist-info").mkdir()
        (tmp_path / f"{name}-{version}.dist-info" / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")

    yield write
    for name in [name for name in sys.modules if name.partition(".")[0] in ZOO]:
        del sys.modules[name]  # the fakes; the set-aside modules come back with monkeypatch


@pytest.fixture
def torch_version(monkeypatch):
    return lambda text: monkeypatch.setattr(torch, "__version__", TorchVersion(text))


def one_sentence(result) -> str:
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.startswith("Error:") and result.output.count("\n") == 1, result.output
    assert "this is a bug" not in result.output
    return result.output


def test_measure_of_a_torchvision_that_does_not_load(fake_package, torch_version, tmp_path):
    fake_package("torchvision", "0.28.0", f"raise RuntimeError({NMS!r})")
    torch_version("2.13.0+cpu")
    result = CliRunner().invoke(main, ["measure", "torchvision:resnet18", "--out", str(tmp_path / "x.parquet")])
    assert one_sentence(result) == (
        "Error: torchvision:resnet18 needs torchvision, but torchvision 0.28.0 does not load with torch 2.13.0+cpu "
        f"(RuntimeError: {NMS}): reinstall it with pip install --force-reinstall --no-deps 'torchvision==0.28.*' "
        "--index-url https://download.pytorch.org/whl/cpu\n"
    )


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers is not installed")
def test_hf_models_name_the_torchvision_transformers_imports(fake_package, torch_version, tmp_path):
    fake_package("torchvision", "0.28.0", f"raise RuntimeError({NMS!r})")
    torch_version("2.13.0+cu128")
    result = CliRunner().invoke(main, ["measure", "hf:bert", "--out", str(tmp_path / "x.parquet")])
    output = one_sentence(result)
    assert output.startswith(
        "Error: hf:bert needs transformers, but torchvision 0.28.0, which transformers imports, does not load with "
        f"torch 2.13.0+cu128 (RuntimeError: {NMS}): reinstall it with"
    )
    assert output.endswith("'torchvision==0.28.*' --index-url https://download.pytorch.org/whl/cu128\n")


def test_a_timm_that_does_not_load_itself(fake_package, torch_version):
    """torchvision loads; timm's own import fails: its reinstall leaves torch and torchvision as they are."""
    fake_package("torchvision", "0.28.0")
    fake_package("timm", "1.0.0", "raise ImportError('cannot import name x from torch.nn')\n")
    torch_version("2.13.0")
    with pytest.raises(HwprofError) as error:
        SOURCES["timm"].require("timm:resnet18")
    assert str(error.value) == (
        "timm:resnet18 needs timm, but timm 1.0.0 does not load with torch 2.13.0 (ImportError: cannot import "
        "name x from torch.nn): reinstall it with pip install --force-reinstall --no-deps timm"
    )


def test_models_tells_installed_from_failing_to_load(fake_package, torch_version):
    fake_package("torchvision", "0.28.0", f"raise RuntimeError({NMS!r})")
    torch_version("2.13.0+cpu")
    state, advice = SOURCES["torchvision"].state()
    assert state == "installed but fails to load"
    assert advice.startswith(f"torchvision 0.28.0 does not load with torch 2.13.0+cpu (RuntimeError: {NMS}): ")
    listing = CliRunner().invoke(main, ["models", "--source", "torchvision", "--json"])
    assert "needs torchvision, but torchvision 0.28.0 does not load" in one_sentence(listing)


def test_a_torchvision_that_loads_is_installed(fake_package):
    fake_package("torchvision", "0.28.0")
    assert SOURCES["torchvision"].state() == ("installed", None)


def test_the_models_listing_says_a_zoo_that_fails_to_load_is_not_usable(fake_package, torch_version):
    """It said "installed; `hwprof models --source torchvision` lists them", a command that then failed."""
    fake_package("torchvision", "0.28.0", f"raise RuntimeError({NMS!r})")
    torch_version("2.13.0+cpu")
    listing = CliRunner().invoke(main, ["models"])
    text = " ".join(listing.output.split())  # the console wraps long lines
    assert listing.exit_code == 0, listing.output
    assert "(installed but fails to load: torchvision 0.28.0 does not load with torch 2.13.0+cpu" in text
    assert "`hwprof models --source torchvision` lists them" not in text
