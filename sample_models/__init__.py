"""Model definitions written in this project: no torchvision, no downloads.

MODELS maps each name to its factory, default input shape (without batch)
and architecture family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn


@dataclass(frozen=True)
class ModelEntry:
    factory: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    family: str
    description: str


MODELS: dict[str, ModelEntry] = {}
