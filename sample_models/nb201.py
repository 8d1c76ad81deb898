"""NAS-Bench-201 networks on the CIFAR macro skeleton, built from the standard arch notation.

The skeleton follows the NAS-Bench-201 code: a 3x3 stem to 16 channels with
batch norm; three stages of 5 cells at 16, 32 and 64 channels, joined by
residual reduction blocks (ReLU-Conv3x3(s2)-BN, ReLU-Conv3x3-BN, shortcut
AvgPool2d(2,2) + Conv1x1); final BN-ReLU, global average pooling and a linear
classifier. Input is (3, 32, 32).

A cell has 4 nodes. Node 0 is the cell input and node i (1..3) is the sum of
the ops on its edges from every earlier node; node 3 is the cell output.

The network is built as it would be deployed, not as the weight-sharing
supernet computes it:
- `none` edges are left out of the computation instead of multiplying by zero;
  a node whose edges are all `none` is `torch.zeros_like` of node 0;
- `skip_connect` passes the tensor on without a module;
- nodes whose value never reaches the cell output are not computed, and their
  edges get no modules or parameters.
So the layers that run are exactly those that affect the output. Parameter
counts equal NAS-Bench-201's except for cells with dead nodes, whose unused
convs the benchmark's table still counts.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import torch
import torch.nn as nn

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4  # node 0 is the cell input
CELLS_PER_STAGE = 5
STAGE_CHANNELS = (16, 32, 64)
INPUT_SHAPE = (3, 32, 32)  # CIFAR, without the batch
EXPECTED_FORM = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"

Arch = tuple[tuple[tuple[str, int], ...], ...]


def _bad(problem: str) -> ValueError:
    return ValueError(f"{problem}; write the cell as {EXPECTED_FORM} with each op one of {', '.join(OPS)}")


def parse_arch(arch: str) -> Arch:
    """Validate an arch string and return, per node 1..3, its (op, input node) edges sorted by input."""
    if not isinstance(arch, str):
        raise _bad(f"the architecture must be a string, not {type(arch).__name__}")
    if not arch.strip():
        raise _bad("the architecture is empty")
    node_texts = arch.strip().split("+")
    if len(node_texts) != NUM_NODES - 1:
        raise _bad(f"the architecture has {len(node_texts)} node(s) separated by '+' but a cell has {NUM_NODES - 1}")
    nodes = []
    for node, text in enumerate(node_texts, start=1):
        if len(text) < 2 or not text.startswith("|") or not text.endswith("|"):
            raise _bad(f"node {node} {text!r} must start and end with '|'")
        edges = []
        for edge in text[1:-1].split("|"):
            op, sep, source_text = edge.partition("~")
            if not sep or not source_text.isdigit():
                raise _bad(f"edge {edge!r} in node {node} is not written op~input")
            if op not in OPS:
                raise _bad(f"unknown op {op!r} in node {node}")
            source = int(source_text)
            if source >= node:
                raise _bad(
                    f"edge {edge!r} in node {node} reads node {source}, but node {node} can only read nodes 0 to {node - 1}"
                )
            edges.append((op, source))
        if len(edges) != node:
            raise _bad(f"node {node} has {len(edges)} edge(s) but needs {node}, one from each of nodes 0 to {node - 1}")
        sources = [source for _, source in edges]
        if len(set(sources)) != node:
            repeated = next(s for s in sources if sources.count(s) > 1)
            raise _bad(f"node {node} reads node {repeated} more than once")
        nodes.append(tuple(sorted(edges, key=lambda edge: edge[1])))
    return tuple(nodes)


def arch_to_str(parsed: Arch) -> str:
    """The standard notation for a parsed cell (edges ordered by input node)."""
    text = "+".join("|" + "|".join(f"{op}~{source}" for op, source in node) + "|" for node in parsed)
    canonical = parse_arch(text)  # rejects cells that are not valid
    return "+".join("|" + "|".join(f"{op}~{source}" for op, source in node) + "|" for node in canonical)


def random_arch(rng: random.Random) -> str:
    """One cell drawn uniformly from the 15625, using the caller's generator for reproducibility."""
    return arch_to_str(
        tuple(tuple((rng.choice(OPS), source) for source in range(node)) for node in range(1, NUM_NODES))
    )


def all_archs() -> Iterator[str]:
    """Every cell of the search space (5 ops on 6 edges: 15625), in a fixed order."""
    for ops in itertools.product(OPS, repeat=6):
        yield arch_to_str((((ops[0], 0),), ((ops[1], 0), (ops[2], 1)), ((ops[3], 0), (ops[4], 1), (ops[5], 2))))


class ReLUConvBN(nn.Sequential):
    """nor_conv: ReLU-Conv-BN. The ReLU is not in place because node tensors feed several edges."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels),
        )


def _make_op(op: str, channels: int) -> nn.Module:
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise AssertionError(f"op {op!r} has no module")


def _live_nodes(parsed: Arch) -> set[int]:
    """Nodes whose value reaches the cell output through edges that are not `none`."""
    live = {NUM_NODES - 1}
    for node in range(NUM_NODES - 1, 0, -1):
        if node in live:
            live.update(source for op, source in parsed[node - 1] if op != "none")
    return live


# Per node 1..3: None when the node is dead, else its terms (source node, edge module key, op), with key
# None for skip_connect; an empty list means every input is `none`.
Plan = list[list[tuple[int, str | None, str]] | None]


def cell_plan(parsed: Arch) -> Plan:
    """What a cell computes, node by node: the one place that decides which edges run (prediction composes
    a network's layers from it without building the cell)."""
    live = _live_nodes(parsed)
    plan: Plan = []
    for node, node_edges in enumerate(parsed, start=1):
        if node not in live:
            plan.append(None)
            continue
        plan.append(
            [
                (source, None if op == "skip_connect" else f"edge_{node}_{source}", op)
                for op, source in node_edges
                if op != "none"
            ]
        )
    return plan


class Cell(nn.Module):
    def __init__(self, parsed: Arch, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict()
        self.plan: list[list[tuple[int, str | None]] | None] = []
        for terms in cell_plan(parsed):
            if terms is not None:
                for _, key, op in terms:
                    if key is not None:
                        self.edges[key] = _make_op(op, channels)
            self.plan.append(None if terms is None else [(source, key) for source, key, _ in terms])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x]
        for terms in self.plan:  # fixed at construction, so tracing sees straight-line code
            if terms is None:
                nodes.append(None)  # dead: no live node reads it
            elif not terms:
                nodes.append(torch.zeros_like(x))
            else:
                total = None
                for source, key in terms:
                    value = nodes[source] if key is None else self.edges[key](nodes[source])
                    total = value if total is None else total + value
                nodes.append(total)
        return nodes[-1]


class ResidualReduction(nn.Module):
    """NAS-Bench-201's ResNet basic block with stride 2 between stages."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(in_channels, out_channels, 3, stride=2)
        self.conv_b = ReLUConvBN(out_channels, out_channels, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    def __init__(self, parsed: Arch, num_classes: int = 10) -> None:
        super().__init__()
        self.arch = arch_to_str(parsed)
        self.stem = nn.Sequential(
            nn.Conv2d(3, STAGE_CHANNELS[0], kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(STAGE_CHANNELS[0]),
        )
        blocks: list[nn.Module] = []
        for stage, channels in enumerate(STAGE_CHANNELS):
            if stage > 0:
                blocks.append(ResidualReduction(STAGE_CHANNELS[stage - 1], channels))
            blocks += [Cell(parsed, channels) for _ in range(CELLS_PER_STAGE)]
        self.cells = nn.Sequential(*blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(STAGE_CHANNELS[-1]), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(STAGE_CHANNELS[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        x = torch.flatten(self.global_pooling(x), 1)
        return self.classifier(x)


def build_nb201(arch: str, num_classes: int = 10) -> nn.Module:
    """The deployed network for `arch`; ValueError with the expected form when `arch` is malformed."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, not {num_classes!r}")
    return NB201Network(parse_arch(arch), num_classes)
