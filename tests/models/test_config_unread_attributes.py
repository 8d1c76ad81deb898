"""A user's leaf module recorded by the forward hooks had every public attribute in its config, also those its
forward never reads: a LayerScale tagged with its depth (layer_id, name) was four configs, and measured four
times, for four layers doing one work."""

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


class LayerScale(nn.Module):
    def __init__(self, dim: int, layer_id: int):
        super().__init__()
        self.layer_id, self.name = layer_id, f"blocks.{layer_id}.ls"
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Scaled(nn.Module):
    """Reads its factor through a property and a helper method: both are its forward's reads."""

    def __init__(self, factor: float, tag: str):
        super().__init__()
        self.factor, self.tag = factor, tag

    @property
    def doubled(self):
        return 2 * self.factor

    def scale(self, x):
        return x * self.doubled

    def forward(self, x):
        return self.scale(x)


class Dynamic(nn.Module):
    """Reads an attribute by a name its source does not spell: what it reads cannot be told."""

    def __init__(self, tag: str):
        super().__init__()
        self.which, self.tag = "tag", tag

    def forward(self, x):
        return x * len(getattr(self, self.which))


class Branching(nn.Module):
    """Control flow on a value: torch.fx cannot trace it, so the forward hooks record its leaves."""

    def __init__(self, *leaves: nn.Module):
        super().__init__()
        self.leaves = nn.ModuleList(leaves)

    def forward(self, x):
        if x.sum() > -1e9:
            for leaf in self.leaves:
                x = leaf(x)
        return x


def leaf_layers(*leaves: nn.Module):
    layers, method = extract_layers_from_example(Branching(*leaves), (torch.randn(2, 8),), {})
    assert method == "hooks"
    return [layer for layer in layers if layer.op not in ("sum", "gt")]


def test_attributes_its_forward_never_reads_leave_the_config():
    layers = leaf_layers(*(LayerScale(8, depth) for depth in range(3)))
    assert len(layers) == 3
    assert not {"layer_id", "name"} & set(layers[0].config)
    assert len({layer.config_id("cpu") for layer in layers}) == 1


def test_attributes_read_through_a_property_or_a_method_stay():
    one, other = leaf_layers(Scaled(1.5, "a"), Scaled(3.0, "b"))
    assert one.config["factor"] == 1.5 and "tag" not in one.config
    assert one.config_id("cpu") != other.config_id("cpu")


def test_a_module_reading_attributes_by_computed_names_keeps_them_all():
    (layer,) = leaf_layers(Dynamic("abc"))
    assert layer.config["tag"] == "abc" and layer.config["which"] == "tag"
