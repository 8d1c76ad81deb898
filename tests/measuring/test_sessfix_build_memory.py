"""A model whose build would not fit in the memory available is refused in one sentence before it is built: in an
800 MB container `hwprof measure vgg16 --no-layers` was OOM-killed with nothing said, though its 0.553 GB
of weights were known from a build on meta. Its batch-1 activations are checked too, before any timing."""

import pytest
import torch
import torch.nn as nn
from click.testing import CliRunner

import hwprof
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring import session

FAST = ["--power", "none", "--max-time", "0.3", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]
API_FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}
MB = 10**6


def _memory(monkeypatch, free_bytes: int) -> None:
    monkeypatch.setattr(session, "available_memory_bytes", lambda device: free_bytes)


def _real_builds(monkeypatch) -> list[str]:
    """The models resolve_model builds with real weights (not under the meta device) during the test."""
    real = []
    resolve = session.resolve_model

    def spied(model, *args, **kwargs):
        if torch.empty(0).device.type != "meta":
            real.append(str(model))
        return resolve(model, *args, **kwargs)

    monkeypatch.setattr(session, "resolve_model", spied)
    return real


def test_a_model_whose_weights_do_not_fit_is_refused_before_it_is_built(tmp_path, monkeypatch):
    _memory(monkeypatch, 540 * MB)  # vgg16's weights alone are 553 MB
    real = _real_builds(monkeypatch)
    result = CliRunner().invoke(main, ["measure", "vgg16", "--out", str(tmp_path / "v.parquet"), *FAST])
    message = result.output.strip()
    assert result.exit_code == 1, message
    assert "vgg16 was not built: its weights take 0.55 GB," in message and "0.54 GB of memory available" in message
    assert "Traceback" not in message and message.count("\n") == 0
    assert real == []


def test_the_build_peak_counts_not_the_weights_alone(monkeypatch):
    _memory(monkeypatch, 700 * MB)  # room for vgg16's weights, not for building and running it
    real = _real_builds(monkeypatch)
    with pytest.raises(HwprofError, match=r"building and running it about 0\.75 GB, more than the 0\.70 GB of memory"):
        hwprof.measure("vgg16", layers=False, **API_FAST)
    assert real == []


def test_a_small_model_at_batch_1_still_runs_in_little_memory(monkeypatch):
    _memory(monkeypatch, 200 * MB)
    frame = hwprof.measure("mlp", layers=False, **API_FAST)
    assert (frame["op"] == "network").sum() == 1


class WideConv(nn.Module):
    """Few weights, large activations: a 16-channel output of a 256x256 image is 4 MiB at batch 1."""

    input_shape = (3, 256, 256)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


def test_batch_1_activations_that_do_not_fit_are_refused_before_timing(monkeypatch):
    _memory(monkeypatch, 1 * MB)
    timed = []
    monkeypatch.setattr(session.Runner, "measure", lambda self, items, on_done: timed.append(items))
    with pytest.raises(HwprofError, match=r"^WideConv#\w+ at batch size 1 needs about .*give hwprof more memory"):
        hwprof.measure(WideConv(), **API_FAST)
    assert timed == []


def test_a_zoo_model_that_cannot_be_built_on_meta_is_built_once(monkeypatch):
    """A constructor that reads a tensor's value (torchvision's RegNets) builds with real weights even under the
    meta device: that build, which sizing made, is the one measured, not thrown away and made again."""
    from hwprof.models import sources
    from hwprof.models.inputs import ModelInputs

    constructed = []

    def fake_build(text, overrides=None):
        widths = torch.tensor([4.0, 8.0])
        constructed.append(text)
        module = nn.Sequential(nn.Conv2d(3, int(widths[0].item()), 3), nn.ReLU()).eval()
        return sources.Built(text, module, ModelInputs.from_shape((3, 8, 8)), "fake")

    monkeypatch.setattr(sources, "build", fake_build)
    frame = hwprof.measure("torchvision:fake_regnet", layers=False, **API_FAST)
    assert (frame["op"] == "network").sum() == 1
    assert len(constructed) == 2  # one try on meta, which cannot read the width, and one real build


def test_on_a_gpu_the_host_holds_the_weights_alone(monkeypatch):
    """A GPU run's batch-1 passes use the GPU's memory: the host needs room for the weights, not 1.35 times them."""
    from types import SimpleNamespace

    _memory(monkeypatch, 700 * MB)  # vgg16's 553 MB of weights fit; 1.35 times them would not
    options = SimpleNamespace(device="cpu", input_shape=None, inputs=None, hf_config=None)
    with pytest.raises(HwprofError, match="vgg16 was not built"):
        session._check_build_fits("vgg16", options)
    monkeypatch.setattr(session, "resolve_device", lambda text: torch.device("cuda", 0))
    assert session._check_build_fits("vgg16", SimpleNamespace(**{**vars(options), "device": "cuda:0"})) is None


def test_a_batch_is_checked_against_its_activations_not_the_weights_again(monkeypatch):
    """The weights are on the device already, counted out of the memory free: counting them again refused a batch
    of a wide layer (4 MiB of weights, 64 KiB of activations at batch 8) where 1 MiB was free beside them."""
    _memory(monkeypatch, 1 * 2**20)
    wide = nn.Sequential(nn.Linear(1024, 1024)).eval()
    frame = hwprof.measure([(wide, torch.randn(1, 1024))], batch_sizes=[8], layers=False, **API_FAST)
    assert (frame["op"] == "network").sum() == 1
