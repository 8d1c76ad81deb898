"""Multi-layer perceptrons on flattened 28x28 images."""

from __future__ import annotations

import torch
import torch.nn as nn


class MLP(nn.Module):
    """Linear-ReLU-Dropout blocks between the given widths, then a linear classifier."""

    def __init__(self, widths: list[int], num_classes: int = 10, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for in_features, out_features in zip(widths, widths[1:]):
            layers += [nn.Linear(in_features, out_features), nn.ReLU(inplace=True), nn.Dropout(p=dropout)]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.flatten(x, 1))


def mlp(num_classes: int = 10) -> MLP:
    return MLP([784, 512, 256], num_classes)


def mlp_large(num_classes: int = 10) -> MLP:
    return MLP([784, 1024, 1024, 512], num_classes)
