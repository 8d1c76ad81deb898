"""--channels-last lays out 4-D tensors only: a model with 5-D weights (a Conv3d's) runs as it is, as measure's note
says, where torch's module.to(memory_format=torch.channels_last) failed on them."""

import torch
import torch.nn as nn

from hwprof.models.tracing import to_channels_last, trace_layers


class Mixed(nn.Module):
    """A video stem (Conv3d) folded into images (Conv2d)."""

    def __init__(self):
        super().__init__()
        self.video = nn.Conv3d(3, 8, 3)
        self.image = nn.Conv2d(16, 4, 3)

    def forward(self, x):
        y = self.video(x)
        return self.image(y.flatten(1, 2))


def test_only_4d_weights_are_laid_out_nhwc():
    module = to_channels_last(Mixed())
    assert module.image.weight.is_contiguous(memory_format=torch.channels_last)
    assert not module.image.weight.is_contiguous()
    assert module.video.weight.is_contiguous()
    assert isinstance(module.video.weight, nn.Parameter)


def test_a_conv3d_model_is_predicted_under_channels_last():
    trace = trace_layers(nn.Sequential(nn.Conv3d(3, 8, 3), nn.ReLU()), (3, 4, 16, 16), 1, channels_last=True)
    assert [layer.op for layer in trace.layers] == ["conv3d", "relu"]
    assert trace.layers[0].config["output_shape"] == [1, 8, 2, 14, 14]


def test_a_model_traced_on_real_tensors_under_channels_last_keeps_its_5d_weights(monkeypatch):
    from hwprof.models import tracing

    def no_meta(*args, **kwargs):
        raise RuntimeError("meta unavailable")

    monkeypatch.setattr(tracing, "meta_copy", no_meta)  # the fallback: a real forward pass on a converted copy
    module = Mixed()
    trace = trace_layers(module, (3, 4, 10, 10), 1, channels_last=True)
    assert trace.tensors == "real"
    assert [layer.op for layer in trace.layers] == ["conv3d", "flatten", "conv2d"]
    assert module.image.weight.is_contiguous()  # the caller's module is left as it was


def test_a_conv3d_model_is_measured_under_channels_last(tmp_path):
    """Measuring it failed as 'a bug' (required rank 4 tensor to use channels_last format) after measure had said it
    would run as it is."""
    from hwprof.measuring.session import measure
    from hwprof.models.spec import ModelSpec

    spec = ModelSpec("c3d", nn.Sequential(nn.Conv3d(3, 4, 3), nn.ReLU()), (3, 4, 8, 8), "c3d")
    frame = measure([spec], batch_sizes=(1,), power="none", threads=1, precision=0.5, max_item_s=0.05,
                    sweep_share=0, channels_last=True)  # fmt: skip
    assert (frame["kind"] == "network").sum() == 1 and frame["latency_ms"].notna().all()
