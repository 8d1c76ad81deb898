"""The advice for a missing torchvision or timm dropped torch's build tag: on a +cpu torch it named PyPI's
torchvision, a CUDA build that does not load beside it. It now names PyTorch's index for that build (+cpu,
+cuXYZ); a torch without a tag keeps PyPI."""

import importlib.util

import pytest
import torch
from click.testing import CliRunner
from torch.torch_version import TorchVersion

from hwprof.cli import main
from hwprof.models.sources import SOURCES, install_command


@pytest.fixture
def torch_version(monkeypatch):
    """Sets the version the installed torch reports, build tag and all."""
    return lambda text: monkeypatch.setattr(torch, "__version__", TorchVersion(text))


@pytest.mark.parametrize("tag", ["cpu", "cu128", "rocm6.4"])
def test_a_tagged_torch_gets_torchvision_from_its_index(torch_version, tag):
    torch_version(f"2.13.0+{tag}")
    advice = install_command(SOURCES["torchvision"])
    assert advice == (
        f"pip install 'torchvision==0.28.*' --index-url https://download.pytorch.org/whl/{tag}, "
        f"the torchvision built for torch 2.13.0+{tag}"
    )


def test_timm_comes_after_the_torchvision_of_the_index(torch_version):
    """timm is not on PyTorch's index: torchvision first from there, then timm from PyPI, which keeps it."""
    torch_version("2.13.0+cpu")
    advice = install_command(SOURCES["timm"])
    first, then = advice.split(", then ")
    assert first.startswith("pip install 'torchvision==0.28.*' --index-url https://download.pytorch.org/whl/cpu, ")
    assert then == "pip install timm 'torchvision==0.28.*'"


def test_a_torch_without_a_build_tag_keeps_pypi(torch_version):
    torch_version("2.13.0")
    assert install_command(SOURCES["torchvision"]) == (
        "pip install 'torchvision==0.28.*', the torchvision built for torch 2.13.0"
    )
    assert "--index-url" not in install_command(SOURCES["timm"])


@pytest.mark.parametrize("version", ["2.5.0a0+872d972e41.nv24.08", "2.13.0+cpu.cxx11.abi"])
def test_a_torch_of_a_build_no_index_has_is_kept_by_no_deps(torch_version, version):
    """NVIDIA's Jetson torch: PyPI's torchvision pins torch==2.5.0, which 2.5.0a0+... does not meet, so the
    advice without --no-deps replaced the CUDA torch the board needs with PyPI's."""
    torch_version(version)
    minor = int(version.split(".")[1])
    pin = f"'torchvision==0.{minor + 15}.*'"
    assert install_command(SOURCES["torchvision"]).startswith(f"pip install --no-deps {pin}, ")
    timm = install_command(SOURCES["timm"])  # timm with torchvision named would pull PyPI's torch back in
    assert timm.startswith(f"pip install --no-deps {pin} timm, ")
    assert ", then pip install pyyaml huggingface_hub safetensors;" in timm
    for advice in (install_command(SOURCES["torchvision"]), timm):
        assert "--no-deps keeps this torch build" in advice and "--index-url" not in advice


def test_an_xpu_torch_gets_torchvision_from_its_index(torch_version):
    torch_version("2.13.0+xpu")
    assert "--index-url https://download.pytorch.org/whl/xpu" in install_command(SOURCES["torchvision"])


def test_hf_needs_no_torchvision(torch_version):
    torch_version("2.13.0+cpu")
    assert install_command(SOURCES["hf"]) == "pip install transformers"


def test_measure_names_the_index_for_a_missing_torchvision(torch_version, monkeypatch, tmp_path):
    torch_version("2.13.0+cu128")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torchvision" else real(name, *a))
    result = CliRunner().invoke(main, ["measure", "torchvision:resnet18", "--out", str(tmp_path / "x.parquet")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    assert "needs torchvision, which is not installed: run pip install 'torchvision==0.28.*' --index-url " in (
        result.output
    )
    assert "https://download.pytorch.org/whl/cu128, the torchvision built for torch 2.13.0+cu128" in result.output
