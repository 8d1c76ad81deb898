"""Mixture-of-experts grouped matmuls (transformers 5's experts call torch._grouped_mm): their MACs are every
row's product with its expert's weight, the experts' weights are weights, and a layer timed alone is given
offsets a router could give."""

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import TensorSpec, extract_layers_from_example


def _grouped_mm_runs() -> bool:
    """torch._grouped_mm came with torch 2.8, its CPU kernel later."""
    try:
        torch._grouped_mm(torch.randn(4, 8), torch.randn(2, 8, 8), offs=torch.tensor([2, 4], dtype=torch.int32))
    except (AttributeError, NotImplementedError, RuntimeError):
        return False
    return True


class Experts(nn.Module):
    """As transformers' grouped_mm_experts_forward multiplies: the weight (experts, out, in), transposed."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 256, 64))

    def forward(self, hidden, offs):
        return torch._grouped_mm(hidden, self.weight.transpose(-2, -1), offs=offs)


@pytest.mark.skipif(not _grouped_mm_runs(), reason="this torch has no grouped_mm on the CPU")
@pytest.mark.parametrize("keyword", [False, True])  # keyword inputs are recorded through hooks, positional by fx
def test_a_grouped_matmul_counts_each_rows_product_with_its_experts_weight(keyword):
    hidden, offs = torch.randn(32, 64), torch.tensor([8, 16, 24, 32], dtype=torch.int32)
    args, kwargs = ((), {"hidden": hidden, "offs": offs}) if keyword else ((hidden, offs), {})
    (layer,), _ = extract_layers_from_example(Experts(), args, kwargs)
    assert layer.op == "groupedmm"
    assert layer.flops == 32 * 64 * 256  # tokens x in x out, where one per output element counted 8,192
    assert layer.params == 4 * 256 * 64  # the experts' weights are the layer's, not an input
    assert layer.weight_bytes == 4 * 256 * 64 * 4
    assert layer.config["input_shapes"] == [[32, 64], [4]]

    for _ in range(20):  # timed alone, it is given offsets a router could give
        drawn = layer.call.kwargs["offs"].make("cpu") if "offs" in layer.call.kwargs else layer.call.args[2].make("cpu")
        assert drawn.dtype == torch.int32 and drawn.shape == (4,)
        assert drawn[-1] == 32 and bool((drawn[1:] >= drawn[:-1]).all()) and drawn[0] >= 0
        layer.call.bind("cpu")()


def test_offsets_are_cumulative_group_sizes_ending_at_the_rows():
    spec = TensorSpec((8,), torch.int64, value_range=(3, 101), offsets_total=100)
    for _ in range(50):
        offs = spec.make("cpu")
        assert offs.dtype == torch.int64 and offs[-1] == 100 and bool((offs.diff() >= 0).all())
