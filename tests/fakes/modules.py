"""nn.Modules with the habits of real models, for the tests of what hwprof does to a user's module."""

import torch.nn as nn


class BiasCache(nn.Module):
    """timm's LeViT and EfficientFormerV2: an attention bias computed once per device and kept in a dict, in eval."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.attention_bias_cache = {}

    def forward(self, x):
        key = str(x.device)
        if key not in self.attention_bias_cache:
            self.attention_bias_cache[key] = self.fc.bias * 2
        return self.fc(x) + self.attention_bias_cache[key]
