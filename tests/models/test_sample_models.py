"""Sample models build, run, trace and match their reference sizes; NAS-Bench-201 cells parse and build."""

from __future__ import annotations

import random

import pytest
import torch
import torch.fx
import torch.nn as nn

from hwprof.sample_models import MODELS
from hwprof.sample_models.nb201 import OPS, all_archs, arch_to_str, build_nb201, parse_arch, random_arch

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
HEAVY = {"vgg11", "vgg13", "vgg16", "resnet34", "resnet50", "alexnet"}  # batch 1 keeps the file fast on 2 cores
NUM_CLASSES = {"mlp": 10, "mlp_large": 10, "vit_tiny": 10, "vit_small_patch": 10}
FAMILIES = {"alexnet", "vgg", "resnet", "mobilenet", "squeezenet", "mlp", "vit"}


# Published torchvision counts; the definitions here must reproduce those architectures exactly.
REFERENCE_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg13": 133_047_848,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
}


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_required_models_and_families_are_registered():
    required = {"alexnet", "vgg11", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "squeezenet1_0", "mlp", "vit_tiny"}
    assert required <= set(MODELS)
    assert {entry.family for entry in MODELS.values()} == FAMILIES
    for name, entry in MODELS.items():
        assert entry.description and "\n" not in entry.description, name
        assert all(isinstance(d, int) and d > 0 for d in entry.input_shape), name


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_matches_reference_size_runs_and_traces_to_the_same_output(name):
    entry = MODELS[name]
    torch.manual_seed(0)
    model = entry.factory().eval()
    if name in REFERENCE_PARAMS:
        assert _num_params(model) == REFERENCE_PARAMS[name]
    batch = 1 if name in HEAVY else 2
    x = torch.randn(batch, *entry.input_shape)
    traced = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        eager_out = model(x)
        assert eager_out.shape == (batch, NUM_CLASSES.get(name, 1000))
        assert torch.isfinite(eager_out).all()
        if name not in HEAVY:  # a second forward of the big ones costs seconds and proves nothing new
            torch.testing.assert_close(traced(x), eager_out)


def test_vit_tiny_has_the_requested_shape():
    model = MODELS["vit_tiny"].factory()
    blocks = [m for m in model.modules() if isinstance(m, nn.MultiheadAttention)]
    assert len(blocks) == 4
    assert all(b.embed_dim == 192 and b.num_heads == 3 and b.batch_first for b in blocks)
    assert model.patch_embed.kernel_size == (4, 4) and model.patch_embed.stride == (4, 4)
    assert model.pos_embed.shape == (1, 8 * 8 + 1, 192)


# --- NAS-Bench-201 -----------------------------------------------------------------------------


def test_parse_and_round_trip():
    parsed = parse_arch(EXAMPLE)
    assert parsed == (
        (("nor_conv_3x3", 0),),
        (("nor_conv_3x3", 0), ("avg_pool_3x3", 1)),
        (("skip_connect", 0), ("nor_conv_3x3", 1), ("skip_connect", 2)),
    )
    assert arch_to_str(parsed) == EXAMPLE
    # edges given out of order describe the same cell and come back in standard order
    shuffled = "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|nor_conv_3x3~1|skip_connect~0|"
    assert arch_to_str(parse_arch(shuffled)) == EXAMPLE


@pytest.mark.parametrize(
    "arch, names",
    [
        ("", "empty"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "2 node"),
        (EXAMPLE + "+|none~0|", "4 node"),
        (EXAMPLE.replace("avg_pool_3x3", "max_pool_3x3"), "'max_pool_3x3'"),
        (EXAMPLE.replace("avg_pool_3x3~1", "avg_pool_3x3~2"), "reads node 2"),
        (EXAMPLE.replace("skip_connect~2", "skip_connect~7"), "reads node 7"),
        (EXAMPLE.replace("avg_pool_3x3~1", "avg_pool_3x3~0"), "node 0 more than once"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "1 edge"),
        (EXAMPLE.replace("|nor_conv_3x3~0|+", "nor_conv_3x3~0+", 1), "'|'"),
        (EXAMPLE.replace("nor_conv_3x3~0", "nor_conv_3x3", 1), "op~input"),
    ],
)
def test_bad_arch_is_rejected_with_one_clear_sentence(arch, names):
    with pytest.raises(ValueError) as error:
        build_nb201(arch)
    message = str(error.value)
    assert names in message
    assert "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|" in message
    assert "\n" not in message and message.count(". ") == 0


def test_all_archs_enumerates_the_search_space_once():
    archs = list(all_archs())
    assert len(archs) == 15625 == len(set(archs)) == len(OPS) ** 6
    assert all(arch_to_str(parse_arch(a)) == a for a in archs[::97])


def test_random_arch_is_reproducible_and_valid():
    first = [random_arch(random.Random(7)) for _ in range(3)]
    assert len(set(first)) == 1
    draws = {random_arch(random.Random(seed)) for seed in range(50)}
    assert len(draws) > 40
    for arch in draws:
        parse_arch(arch)


def _conv_count(model: nn.Module) -> int:
    return sum(isinstance(m, nn.Conv2d) for m in model.modules())


def test_known_arch_has_the_conv_layers_counted_by_hand():
    # stem 1 + 2 reduction blocks x 3 convs + 15 cells x 3 nor_conv edges
    model = build_nb201(EXAMPLE).eval()
    assert _conv_count(model) == 1 + 2 * 3 + 15 * 3
    traced = torch.fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    called = [n for n in traced.graph.nodes if n.op == "call_module" and isinstance(modules[n.target], nn.Conv2d)]
    assert len(called) == 52


def test_parameter_counts_match_nas_bench_201_extremes():
    # NAS-Bench-201 reports 1.531546 M params for the all-3x3 cell and 0.073306 M for parameter-free cells
    assert _num_params(build_nb201(ALL_CONV3)) == 1_531_546
    assert _num_params(build_nb201(ALL_NONE)) == 73_306


def test_all_none_cell_runs_and_gives_zero_features():
    model = build_nb201(ALL_NONE).eval()
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = traced(x)
        features = model.cells(model.stem(x))
    assert out.shape == (2, 10)
    assert features.shape == (2, 64, 8, 8)
    assert torch.count_nonzero(features) == 0  # every cell outputs zeros, whatever the input
    torch.testing.assert_close(out[0], out[1])


def test_dead_nodes_build_no_layers():
    # node 1 feeds only `none` edges, so its conv never reaches the output
    model = build_nb201("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert _conv_count(model) == 1 + 2 * 3


class _ReferenceCell(nn.Module):
    """The supernet way: every edge computed, `none` multiplies by zero."""

    def __init__(self, cell: nn.Module, parsed):
        super().__init__()
        self.cell, self.parsed = cell, parsed

    def forward(self, x):
        nodes = [x]
        for node, edges in enumerate(self.parsed, start=1):
            total = 0
            for op, source in edges:
                key = f"edge_{node}_{source}"
                if op == "none":
                    total = total + nodes[source] * 0.0
                elif op == "skip_connect":
                    total = total + nodes[source]
                elif key in self.cell.edges:
                    total = total + self.cell.edges[key](nodes[source])
                else:  # pruned edge of a dead node: any finite value works, the result is multiplied away
                    total = total + nodes[source] * 3.0
            nodes.append(total)
        return nodes[-1]


@pytest.mark.parametrize("seed", range(6))
def test_deployed_cell_computes_what_the_supernet_cell_computes(seed):
    rng = random.Random(seed)
    # seed 0: node 1 is dead and node 2 is a live all-`none` node that a conv reads
    arch = random_arch(rng) if seed else "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    torch.manual_seed(seed)
    model = build_nb201(arch).eval()
    cell = model.cells[0]
    for module in cell.modules():  # non-trivial batch-norm statistics so a wrong sum cannot hide
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    reference = _ReferenceCell(cell, parse_arch(arch))
    x = torch.randn(2, 16, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(cell(x), reference(x))


def test_num_classes_is_validated():
    assert build_nb201(EXAMPLE, num_classes=100).classifier.out_features == 100
    with pytest.raises(ValueError, match="num_classes"):
        build_nb201(EXAMPLE, num_classes=0)
