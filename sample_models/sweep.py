"""Layer sweeps: randomly sampled configurations of one op type, measured one by one.

A model zoo teaches a cost model only the layer shapes its networks happen to
use: every linear layer of a CNN sees one row per image (a matrix-vector
product), so nothing in it says how fast a transformer's token-wise linear
layers run. Like nn-Meter's kernel sampling, a sweep measures the op over a
broad, architecture-neutral range of sizes on the target board, so the layer
models interpolate where a network would otherwise make them extrapolate.

`sweep:OP` (or `sweep:OP:COUNT` or `sweep:OP:COUNT:SEED`) names COUNT
configurations of OP drawn with SEED; the same name always gives the same
configurations, so an interrupted sweep resumes. Sizes are drawn log-uniformly
over the ranges below, and any configuration over MAX_MACS or its op's byte cap
(max_bytes) for one sample is redrawn, so a sweep stays minutes long and fits
in memory.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn

from hwprof.schema import SWEEP_PREFIX

PREFIX = SWEEP_PREFIX  # stated once in hwprof.schema, which readers without torch import
DEFAULT_COUNT = 40
DEFAULT_SEED = 0
MAX_COUNT = 1000
MAX_MACS = 2e9  # per sample (batch 1): as large as the largest convolutions of VGG-16
MAX_BYTES = 48e6  # per sample: input, output and weights at 4 bytes per element
# Matrix-vector products stream their weights from memory once per row, and a CNN's classifier holds
# hundreds of MB of them (VGG-16's first one: 411 MB); below that size they run partly from cache.
MAX_BYTES_BY_OP = {"linear": 512e6}
MAX_DRAWS = 10_000


@dataclass(frozen=True)
class SweepLayer:
    """One sampled configuration: the module to run and its input shape without the batch."""

    module: nn.Module
    input_shape: tuple[int, ...]
    more_shapes: tuple[tuple[int, ...], ...] = ()  # further float inputs (matmul's B; attention's key, value)
    vocab_size: int | None = None  # integer indices below it (an embedding's token ids)


class MatMul(nn.Module):
    """A product of two activations, as attention's scores and weighted values are."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


class Attention(nn.Module):
    """Fused scaled dot-product attention, as Hugging Face models call it; causal for decoders."""

    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.causal = causal

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


class SelfAttention(nn.Module):
    """Multi-head self-attention as transformer blocks call it: query, key and value are the input."""

    def __init__(self, attention: nn.MultiheadAttention) -> None:
        super().__init__()
        self.attention = attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x, x, x, need_weights=False)[0]


class Residual(nn.Module):
    """An element-wise add of two activations of one shape, as a residual connection does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + x


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _size(rng: random.Random, low: int, high: int, multiple: int = 1) -> int:
    """A log-uniform integer in [low, high], rounded to a multiple of `multiple` above 2 x multiple."""
    value = _log_uniform(rng, low, high)
    if value >= 2 * multiple:
        return max(low, int(round(value / multiple)) * multiple)
    return max(low, int(round(value)))


def _tokens_and_width(rng: random.Random) -> tuple[int, int]:
    return _size(rng, 1, 1024), _size(rng, 16, 4096, 8)


def _image(rng: random.Random) -> tuple[int, int]:
    """(channels, side) of a feature map."""
    return _size(rng, 8, 1024, 8), _size(rng, 4, 112)


def _linear(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    tokens = _size(rng, 2, 1024) if rng.random() < 0.6 else 0  # 0: one row per sample (2-D input)
    if tokens:
        features_in, features_out = _size(rng, 8, 4096, 8), _size(rng, 8, 4096, 8)
    else:  # up to a CNN classifier's flattened feature map
        features_in, features_out = _size(rng, 64, 32768, 8), _size(rng, 8, 8192, 8)
    rows = max(1, tokens)
    shape = (tokens, features_in) if tokens else (features_in,)
    weights = features_in * features_out
    return (nn.Linear(features_in, features_out), shape, rows * weights, rows * (features_in + features_out) + weights)


def _conv_sample(module: nn.Conv2d, side: int) -> tuple[nn.Module, tuple[int, ...], float, float]:
    """A square-input convolution as a sample: the module, its input shape, its MACs and elements moved."""
    channels_in, channels_out, groups = module.in_channels, module.out_channels, module.groups
    (kernel, _), (stride, _), (padding, _) = module.kernel_size, module.stride, module.padding
    out_side = (side + 2 * padding - kernel) // stride + 1
    outputs = channels_out * out_side * out_side
    weights = channels_out * channels_in // groups * kernel * kernel
    return (
        module,
        (channels_in, side, side),
        outputs * channels_in // groups * kernel * kernel,
        channels_in * side * side + outputs + weights,
    )


def _stem(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    """A network's first convolution: 3 input channels at image resolution, a wide window, a stride."""
    side = _size(rng, 32, 224)
    kernel, stride = rng.choice(((3, 1), (3, 2), (4, 4), (7, 2), (11, 4)))
    padding = rng.choice((0, kernel // 2))
    channels_out = _size(rng, 16, 128, 8)
    return _conv_sample(nn.Conv2d(3, channels_out, kernel, stride=stride, padding=padding), side)


def _conv2d(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    kind = rng.choices(("dense", "depthwise", "grouped", "stem"), weights=(0.6, 0.17, 0.08, 0.15))[0]
    if kind == "stem":
        return _stem(rng)
    channels_in, side = _image(rng)
    kernel = rng.choices((1, 3, 5, 7), weights=(0.45, 0.4, 0.1, 0.05))[0]
    stride = rng.choices((1, 2), weights=(0.75, 0.25))[0]
    if kind == "depthwise":
        # A depthwise 1x1 convolution is a per-channel scale no network runs as a convolution; the CPU runs
        # it group by group (792 channels at 5x5: 2.4 ms for 20 kMACs), and a few such draws taught the conv
        # model that MobileNet's 3x3 depthwise layers are 20x slower than they are.
        kernel = max(kernel, 3)
        channels_out, groups = channels_in, channels_in
    else:
        channels_out = _size(rng, 8, 1024, 8)
        groups = (
            rng.choice([g for g in (2, 4, 8) if channels_in % g == 0 and channels_out % g == 0] or [1])
            if kind == "grouped"
            else 1
        )
    return _conv_sample(
        nn.Conv2d(channels_in, channels_out, kernel, stride=stride, padding=kernel // 2, groups=groups), side
    )


def _attention(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    head_dim = rng.choice((32, 64))
    heads = rng.choice((1, 2, 3, 4, 6, 8, 12, 16))
    width = head_dim * heads
    tokens = _size(rng, 4, 1024)
    module = SelfAttention(nn.MultiheadAttention(width, heads, batch_first=True))
    macs = 4 * tokens * width * width + 2 * tokens * tokens * width
    return module, (tokens, width), macs, 6 * tokens * width + heads * tokens * tokens + 4 * width * width


def _sequence_op(factory: Callable[[int], nn.Module]):
    def sample(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
        tokens, width = _tokens_and_width(rng)
        return factory(width), (tokens, width), tokens * width, 2 * tokens * width

    return sample


def _map_op(factory: Callable[[int], nn.Module], outputs_per_input: float = 1.0):
    def sample(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
        channels, side = _image(rng)
        elements = channels * side * side
        return factory(channels), (channels, side, side), elements, elements * (1 + outputs_per_input)

    return sample


def _maxpool2d(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    """Pools as CNNs use them: 2x2 stride 2 (VGG), 3x3 stride 2 (ResNet, AlexNet; SqueezeNet in ceil
    mode), 3x3 stride 1 (Inception's pooling branches), each with or without padding."""
    channels, side = _image(rng)
    kernel, stride = rng.choice(((2, 2), (3, 2), (3, 1)))
    side = max(side, kernel)
    padding = rng.choice((0, kernel // 2))
    ceil_mode = rng.random() < 0.3
    module = nn.MaxPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    rounding = math.ceil if ceil_mode else math.floor
    out_side = rounding((side + 2 * padding - kernel) / stride) + 1
    inputs, outputs = channels * side * side, channels * out_side * out_side
    return module, (channels, side, side), outputs * kernel * kernel, inputs + outputs


def _avgpool2d(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    """Average pools as CNNs use them: 2x2 stride 2 (DenseNet's transitions, NAS-Bench-201's reduction
    shortcut), 3x3 stride 1 padded (Inception's branches, NAS-Bench-201's cell op, which leaves the padding
    out of the average) and 3x3 stride 2."""
    channels, side = _image(rng)
    kernel, stride, padding = rng.choice(((2, 2, 0), (3, 1, 1), (3, 2, 1)))
    side = max(side, kernel)
    module = nn.AvgPool2d(kernel, stride=stride, padding=padding, count_include_pad=rng.random() < 0.5)
    out_side = (side + 2 * padding - kernel) // stride + 1
    inputs, outputs = channels * side * side, channels * out_side * out_side
    return module, (channels, side, side), outputs * kernel * kernel, inputs + outputs


def _adaptive_avgpool2d(rng: random.Random) -> tuple[nn.Module, tuple[int, ...], float, float]:
    """A classifier's pooling: global (to 1x1, most CNNs) or to a fixed grid (AlexNet's 6x6, VGG's 7x7)."""
    channels, side = _image(rng)
    grid = rng.choices((1, 6, 7), weights=(0.7, 0.15, 0.15))[0]
    side = max(side, grid)
    inputs, outputs = channels * side * side, channels * grid * grid
    return nn.AdaptiveAvgPool2d(grid), (channels, side, side), inputs, inputs + outputs


MAX_TABLE_ELEMENTS = 4e6  # an embedding table of at most 16 MB in float32, built in under 0.1 s


def _embedding(rng: random.Random):
    """A token lookup: vocabularies from a tokenizer's 1k to a multilingual model's 256k, rows of 64 to 8192
    (rows are narrowed to keep a table within MAX_TABLE_ELEMENTS: a lookup reads only the rows it gathers)."""
    tokens, width, vocab = _size(rng, 1, 2048), _size(rng, 64, 8192, 8), _size(rng, 1000, 256_000)
    width = min(width, max(8, int(MAX_TABLE_ELEMENTS / vocab) // 8 * 8))
    module = nn.Embedding(vocab, width)
    return SweepLayer(module, (tokens,), vocab_size=vocab), 0.0, tokens + tokens * width


def _matmul(rng: random.Random):
    """(heads, M, K) @ (heads, K, N): attention's scores (K = head size) and weighted values (K = tokens)."""
    heads, m = rng.choice((1, 2, 4, 8, 12, 16)), _size(rng, 1, 2048)
    k, n = (_size(rng, 16, 128, 8), _size(rng, 1, 2048)) if rng.random() < 0.5 else (_size(rng, 1, 2048), 64)
    layer = SweepLayer(MatMul(), (heads, m, k), ((heads, k, n),))
    return layer, heads * m * k * n, heads * (m * k + k * n + m * n)


def _sdpa(rng: random.Random):
    heads, head_dim, tokens = rng.choice((1, 2, 4, 8, 12, 16, 32)), rng.choice((32, 64, 80, 128)), _size(rng, 4, 2048)
    shape = (heads, tokens, head_dim)
    layer = SweepLayer(Attention(rng.random() < 0.5), shape, (shape, shape))
    return layer, 2 * heads * tokens * tokens * head_dim, 4 * heads * tokens * head_dim


def _softmax(rng: random.Random):
    """Over attention scores: (heads, tokens, tokens)."""
    heads, tokens = rng.choice((1, 2, 4, 8, 12, 16)), _size(rng, 4, 1024)
    elements = heads * tokens * tokens
    return SweepLayer(nn.Softmax(dim=-1), (heads, tokens, tokens)), elements, 2 * elements


def _as_layer(sample):
    """A (module, shape, macs, elements) sampler as one that returns (SweepLayer, macs, elements)."""

    def draw(rng: random.Random):
        module, shape, macs, elements = sample(rng)
        return SweepLayer(module, shape), macs, elements

    return draw


# Ops whose samples are one float tensor: (module, input shape, MACs, elements moved)
_SHAPE_SAMPLERS: dict[str, Callable[[random.Random], tuple[nn.Module, tuple[int, ...], float, float]]] = {
    "linear": _linear,
    "conv2d": _conv2d,
    "multiheadattention": _attention,
    "layernorm": _sequence_op(nn.LayerNorm),
    "gelu": _sequence_op(lambda width: nn.GELU()),
    "batchnorm2d": _map_op(nn.BatchNorm2d),
    "relu": _map_op(lambda channels: nn.ReLU(inplace=True)),
    "maxpool2d": _maxpool2d,
    "avgpool2d": _avgpool2d,
    "adaptiveavgpool2d": _adaptive_avgpool2d,
    # activations of mobile networks: MobileNetV2's ReLU6, MobileNetV3's hard swish, squeeze-and-excitation's gate
    "relu6": _map_op(lambda channels: nn.ReLU6(inplace=True)),
    "hardswish": _map_op(lambda channels: nn.Hardswish(inplace=True)),
    "sigmoid": _map_op(lambda channels: nn.Sigmoid()),
    "add": _map_op(lambda channels: Residual(), 2.0),
    "silu": _sequence_op(lambda width: nn.SiLU()),
    # nn.RMSNorm came with torch 2.4; on an older torch (JetPack 5's wheels) there is no rmsnorm sweep
    **({"rmsnorm": _sequence_op(nn.RMSNorm)} if hasattr(nn, "RMSNorm") else {}),
}
# Every op with a sweep -> a sampler of (SweepLayer, MACs, elements moved); transformers' ops (embedding,
# matmul, attention) take integer or several inputs.
SAMPLERS: dict[str, Callable[[random.Random], tuple[SweepLayer, float, float]]] = {
    **{op: _as_layer(sample) for op, sample in _SHAPE_SAMPLERS.items()},
    "embedding": _embedding,
    "matmul": _matmul,
    "scaleddotproductattention": _sdpa,
    "softmax": _softmax,
}


def max_bytes(op: str) -> float:
    """The byte cap of one sample of `op`: input, output and weights at 4 bytes per element."""
    return MAX_BYTES_BY_OP.get(op, MAX_BYTES)


def parse_sweep(name: str) -> tuple[str, int, int]:
    """'sweep:OP[:COUNT[:SEED]]' -> (op, count, seed); ValueError with what is wrong."""
    parts = name[len(PREFIX) :].split(":")
    op = parts[0]
    if op not in SAMPLERS:
        raise ValueError(f"no sweep for op {op!r}; sweeps exist for {', '.join(sorted(SAMPLERS))}")
    if len(parts) > 3 or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"{name!r}: write sweep:OP, sweep:OP:COUNT or sweep:OP:COUNT:SEED with whole numbers")
    count = int(parts[1]) if len(parts) > 1 else DEFAULT_COUNT
    seed = int(parts[2]) if len(parts) > 2 else DEFAULT_SEED
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"{name!r}: COUNT must be between 1 and {MAX_COUNT}")
    return op, count, seed


def sample_layers(op: str, count: int, seed: int) -> list[SweepLayer]:
    """`count` distinct configurations of `op`, the same ones for the same seed."""
    rng = random.Random(f"{op}:{seed}")
    torch_state = torch.random.get_rng_state()
    layers, seen = [], set()
    try:
        torch.manual_seed(seed)  # weights are drawn at construction; keep them reproducible too
        for _ in range(MAX_DRAWS):
            if len(layers) == count:
                break
            layer, macs, elements = SAMPLERS[op](rng)
            key = (repr(layer.module), layer.input_shape, layer.more_shapes)
            if macs > MAX_MACS or 4 * elements > max_bytes(op) or key in seen:
                continue
            seen.add(key)
            layer.module.eval()
            layers.append(layer)
    finally:
        torch.random.set_rng_state(torch_state)
    return layers
