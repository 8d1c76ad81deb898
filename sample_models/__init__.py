"""Model definitions written in this project: no torchvision, no downloads.

MODELS maps each name to its factory, default input shape (without batch)
and architecture family. Families group networks for leave-one-family-out
validation, so each family holds several sizes. NAS-Bench-201 cells live in
`nb201` and are named `nb201:<arch>` rather than listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

from . import alexnet, mlp, mobilenet, resnet, squeezenet, vgg, vit


@dataclass(frozen=True)
class ModelEntry:
    factory: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    family: str
    description: str


IMAGENET = (3, 224, 224)
CIFAR = (3, 32, 32)
FLAT_MNIST = (784,)

MODELS: dict[str, ModelEntry] = {
    "alexnet": ModelEntry(alexnet.alexnet, IMAGENET, "alexnet", "AlexNet, 5 convs and 3 linears, 61.1M params"),
    "vgg11": ModelEntry(vgg.vgg11, IMAGENET, "vgg", "VGG-11 without batch norm, 132.9M params"),
    "vgg13": ModelEntry(vgg.vgg13, IMAGENET, "vgg", "VGG-13 without batch norm, 133.0M params"),
    "vgg16": ModelEntry(vgg.vgg16, IMAGENET, "vgg", "VGG-16 without batch norm, 138.4M params"),
    "resnet18": ModelEntry(resnet.resnet18, IMAGENET, "resnet", "ResNet-18, basic blocks, 11.7M params"),
    "resnet34": ModelEntry(resnet.resnet34, IMAGENET, "resnet", "ResNet-34, basic blocks, 21.8M params"),
    "resnet50": ModelEntry(resnet.resnet50, IMAGENET, "resnet", "ResNet-50 v1.5, bottleneck blocks, 25.6M params"),
    "mobilenet_v2": ModelEntry(
        mobilenet.mobilenet_v2,
        IMAGENET,
        "mobilenet",
        "MobileNetV2, inverted residuals with depthwise convs, 3.5M params",
    ),
    "mobilenet_v2_050": ModelEntry(
        mobilenet.mobilenet_v2_050, IMAGENET, "mobilenet", "MobileNetV2 at width 0.5, 2.0M params"
    ),
    "squeezenet1_0": ModelEntry(
        squeezenet.squeezenet1_0, IMAGENET, "squeezenet", "SqueezeNet 1.0, fire modules with concat, 1.2M params"
    ),
    "squeezenet1_1": ModelEntry(
        squeezenet.squeezenet1_1, IMAGENET, "squeezenet", "SqueezeNet 1.1, earlier downsampling, 1.2M params"
    ),
    "mlp": ModelEntry(mlp.mlp, FLAT_MNIST, "mlp", "MLP 784-512-256-10 with ReLU and dropout, 0.5M params"),
    "mlp_large": ModelEntry(
        mlp.mlp_large, FLAT_MNIST, "mlp", "MLP 784-1024-1024-512-10 with ReLU and dropout, 2.4M params"
    ),
    "vit_tiny": ModelEntry(
        vit.vit_tiny, CIFAR, "vit", "ViT-tiny style encoder on 32x32: patch 4, dim 192, 3 heads, depth 4, 1.8M params"
    ),
    "vit_small_patch": ModelEntry(
        vit.vit_small_patch, CIFAR, "vit", "ViT encoder on 32x32: patch 4, dim 256, 4 heads, depth 6, 4.8M params"
    ),
}
