"""VGG without batch norm, configurations A (vgg11), B (vgg13) and D (vgg16)."""

from __future__ import annotations

import torch
import torch.nn as nn

POOL = "M"
# Output channels of each 3x3 conv; POOL marks a 2x2 max pool.
CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL],
    "vgg13": [64, 64, POOL, 128, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL],
    "vgg16": [64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL, 512, 512, 512, POOL],
}


def _features(config: list[int | str]) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for item in config:
        if item == POOL:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, config: list[int | str], num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = _features(config)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg11(num_classes: int = 1000) -> VGG:
    return VGG(CONFIGS["vgg11"], num_classes)


def vgg13(num_classes: int = 1000) -> VGG:
    return VGG(CONFIGS["vgg13"], num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    return VGG(CONFIGS["vgg16"], num_classes)
