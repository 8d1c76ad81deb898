"""A subclass of a torch.nn layer that computes as its base (torchvision's Conv3DSimple, `class MyConv(nn.Conv2d):
pass`) is recorded as the base: its op, name and hyper-parameters, so two kernels are two configurations."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class MyConv(nn.Conv2d):
    pass


class Conv3DSimple(nn.Conv3d):  # as torchvision.models.video.resnet's: only its constructor is its own
    def __init__(self, in_planes: int, out_planes: int):
        super().__init__(in_planes, out_planes, kernel_size=(3, 3, 3), padding=1, bias=False)


class OwnForward(nn.Conv2d):
    """Computes otherwise than nn.Conv2d: traced into, as any module of the user's."""

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding) * 2


class Untraceable(nn.Module):
    """Data-dependent control flow: torch.fx fails, forward hooks record the layers."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x) if x[0, 0, 0, 0].item() > -1e9 else x


def two_kernels(conv):
    return nn.Sequential(conv(64, 64, 3, stride=2, padding=1), nn.ReLU(), conv(64, 64, 4, stride=2, padding=1)).eval()


def records(layers):
    return [(layer.name, layer.op, layer.config_json(), layer.flops) for layer in layers]


def test_a_subclass_keeping_conv2ds_forward_is_recorded_as_conv2d_on_every_path():
    x = torch.randn(1, 64, 32, 32)
    plain, sub = two_kernels(nn.Conv2d), two_kernels(MyConv)
    sub.load_state_dict(plain.state_dict())
    expected = records(extract_layers_from_example(plain, (x,), {})[0])
    assert [op for _, op, _, _ in expected] == ["conv2d", "relu", "conv2d"]
    assert records(extract_layers_from_example(sub, (x,), {})[0]) == expected
    assert records(trace_layers(sub, (64, 32, 32), 1).layers) == expected
    hooked, method = extract_layers_from_example(Untraceable(*sub), (x,), {})
    assert method == "hooks"
    assert [(op, config, flops) for _, op, config, flops in records(hooked)] == [r[1:] for r in expected]
    layers = extract_layers_from_example(sub, (x,), {})[0]
    assert layers[0].config_id("cpu") != layers[2].config_id("cpu")
    assert (layers[0].config["kernel_size"], layers[2].config["kernel_size"]) == ([3, 3], [4, 4])


def test_a_conv3d_subclass_with_its_own_constructor_is_a_conv3d():
    (layer,), _ = extract_layers_from_example(Conv3DSimple(3, 8).eval(), (torch.randn(1, 3, 4, 8, 8),), {})
    assert (layer.op, layer.config["kernel_size"]) == ("conv3d", [3, 3, 3])
    assert layer.flops == 8 * 4 * 8 * 8 * 3 * 27
    (wrapped,) = trace_layers(nn.Sequential(Conv3DSimple(3, 8)), (3, 4, 8, 8), 1).layers
    assert (wrapped.name, wrapped.op, wrapped.flops) == ("0", "conv3d", layer.flops)


def test_a_functional_convolution_keeps_its_kernel_in_its_configuration():
    """A subclass with a forward of its own is traced into: its F.conv2d's weight is no input, so its shape
    enters the configuration, and kernels of 3 and 4 are two configurations, never one timing."""
    x = torch.randn(1, 64, 32, 32)
    layers, _ = extract_layers_from_example(two_kernels(OwnForward), (x,), {})
    convolutions = [layer for layer in layers if layer.op == "conv2d"]
    assert [layer.config["weight_shapes"][0] for layer in convolutions] == [[64, 64, 3, 3], [64, 64, 4, 4]]
    assert convolutions[0].config_id("cpu") != convolutions[1].config_id("cpu")
