"""Numbers a cost model can read, computed from a network's layers.

Two levels, both declarative so a predictor file can name them without code:
- layer variables: physical features (MACs, bytes, arithmetic intensity),
  shape features, the layer's numeric hyper-parameters and an indicator per
  text or flag setting (approximate=tanh), each on a signed log1p scale so
  that layers a thousand times apart weigh alike;
- network aggregates: per op group, how many layers run and how many MACs and
  bytes they move.

A batch of networks is kept as its *unique* layer configurations plus a
sparse count matrix (networks x unique layers), because search spaces reuse
the same few layer shapes over and over: each configuration is evaluated
once, however many networks contain it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

# Op groups for network-level aggregates: (group, op-name prefixes). First match wins.
OP_GROUP_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("attention", ("multiheadattention", "scaleddotproductattention")),
    ("conv", ("conv",)),
    ("linear", ("linear", "matmul", "bilinear", "einsum", "baddbmm", "addmm", "embedding")),
    ("pool", ("maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool", "lppool", "mean")),
    ("norm", ("batchnorm", "layernorm", "groupnorm", "instancenorm", "localresponsenorm", "rmsnorm")),
    (
        "activation",
        (
            "relu",
            "gelu",
            "silu",
            "sigmoid",
            "tanh",
            "hardswish",
            "hardsigmoid",
            "leakyrelu",
            "elu",
            "selu",
            "softmax",
            "logsoftmax",
            "mish",
            "prelu",
            "softplus",
            "hardtanh",
        ),
    ),
    ("elementwise", ("add", "mul", "sub", "div", "cat", "stack", "pow", "sqrt", "exp", "neg", "zeroslike")),
    (
        "reshape",
        (
            "flatten",
            "dropout",
            "reshape",
            "view",
            "permute",
            "transpose",
            "identity",
            "unflatten",
            "chunk",
            "split",
            "expand",
            "squeeze",
            "unsqueeze",
        ),
    ),
)
OP_GROUPS: tuple[str, ...] = tuple(group for group, _ in OP_GROUP_RULES) + ("other",)

# Layer variables every op type shares. Config variables ("config.<key>") are added per training set.
PHYSICAL_VARIABLES = ("flops", "input_bytes", "output_bytes", "weight_bytes", "bytes_total", "intensity")
SHAPE_VARIABLES = ("batch", "in_dim1", "in_rest", "in_last", "out_dim1", "out_rest", "out_last", "n_inputs")
# What these mean depends on the rank of the tensor: in_dim1 is a classifier's features but a token count in a
# transformer; a matrix product's M, N and K say the same without that ambiguity.
RANK_DEPENDENT_VARIABLES = ("in_dim1", "in_rest", "in_last", "out_dim1", "out_rest", "out_last")
# Convolutions and linear layers run as matrix products C[M,N] = A[M,K] B[K,N]; their efficiency
# depends on these three sizes, not only on their product (the MACs).
GEMM_VARIABLES = ("gemm_m", "gemm_n", "gemm_k")
BASE_VARIABLES = PHYSICAL_VARIABLES + SHAPE_VARIABLES + GEMM_VARIABLES
CONFIG_PREFIX = "config."
SHAPE_KEYS = ("input_shapes", "output_shape")
# A layer in half precision gets an indicator per dtype (config.dtype_float16, config.dtype_bfloat16), so its
# model tells those kernels from float32 ones of the same shape; their bytes already count 2 per element.
HALF_DTYPES = ("float16", "bfloat16")
# A layer whose input is channels-last (NHWC) gets one too: the same shapes run other kernels, at other speeds
# (squeezenet1_0 on one CPU thread: 20 ms NHWC against 34 ms NCHW).
CHANNELS_LAST = "channels_last"
# Indicators of how a network was run (measure's --dtype and --channels-last), by prefix: the setting they name.
SETTING_PREFIXES = ("dtype_", "memory_format_")
# A text or flag value of a config is a setting that chooses the kernel (GELU approximate='tanh' ran 7x the time of
# 'none' at one shape; interpolate's bicubic 17x nearest): each has an indicator, "key=value", and a predictor whose
# training layers held that key at other values only counts its layers as uncovered. Settings in a functional op's args and kwargs, or a module call's
# kwargs, are named by their place: "kwargs.is_causal=true", "args.2=reflect"; a number there is a variable of its
# own, "kwargs.dim". A top-level flag is also a 0/1 variable, whose 1 its "=true" indicator repeats (the fit keeps
# one of two equal columns); its false has no indicator, which would be that variable's complement and unsettled
# the layer models' choice of terms (held-out network error 10.6% -> 18.6% on a 15-network CPU dataset).
SETTING_MARK = "="
# Keys hwprof writes into a layer's config only where they are set (a norm or dropout left in training mode in an eval
# network, inputs in several layouts, a strided first input, integer indices other than int64, an attention's masks):
# a training set that never held one ran without it, so a setting of one is new to it. Any other key a training set
# never held is taken as unrecorded there (a dataset measured before hwprof recorded it, or a synthetic one), and a
# layer's value of it as the training's own.
SET_ONLY_KEYS = ("training", "input_layouts", "input_strides", "index_dtypes", "masks")
# A later input laid out by strides of its own (a transposed or expanded operand: input_layouts holds its strides) is
# one indicator, input_layouts=strided, whatever its strides: x + y.transpose(1, 2) is other work than x + y.
LAYOUTS_KEY = "input_layouts"
STRIDED = "strided"
STRIDED_LAYOUT = f"{LAYOUTS_KEY}{SETTING_MARK}{STRIDED}"
# nn.MultiheadAttention records its bias only where it has none ("bias": false; its biases are parameters, and a
# biased one has no bias key), so its false, which makes no indicator elsewhere, is the indicator bias=false, recorded
# only where set. Its config is told by keys no other op's has.
ATTENTION_KEYS = ("add_zero_attn", "kdim", "vdim", "num_heads")
UNBIASED_ATTENTION = f"bias{SETTING_MARK}false"
# Keys whose text values have the indicators above instead (a dtype, a layout, a zoo module's class).
NAMED_TEXT_KEYS = ("dtype", "memory_format", "implementation")
NESTED_KEYS = ("args", "kwargs")
TENSOR_MARK = "tensor"  # where a config's args hold a tensor (layers._constants): no setting
# A copy's input strides say which of its dimensions are in order; as one number, the elements it reads in one run.
STRIDES_KEY = "input_strides"
RUN_VARIABLE = "input_run_elements"
# A strided first input is also the setting input_strides=strided, to tell it new to a predictor whose training layers
# held none; they held one where they have its run of elements.
STRIDED_INPUT = f"{STRIDES_KEY}{SETTING_MARK}{STRIDED}"


def indicator_names(config: dict, settings: bool = True, layout: bool = True) -> list[str]:
    """Indicator variables of a layer (without the prefix): its half dtype, with `layout` a channels-last
    layout, the class of a zoo module that computes a common op its own way (`implementation`: GPT-2's
    NewGELUActivation runs seven element-wise kernels where BERT's GELUActivation runs one, at the same
    shapes), and with `settings` its text and flag settings (see SETTING_MARK) and a strided first input
    (STRIDED_INPUT). Predictor files written before settings and layouts were indicated have neither: to such a
    file, a channels-last layer of the data it was fitted on is no news."""
    names = [f"dtype_{config['dtype']}"] if config.get("dtype") in HALF_DTYPES else []
    if layout and config.get("memory_format") == CHANNELS_LAST:
        names.append(f"memory_format_{CHANNELS_LAST}")
    if isinstance(config.get("implementation"), str):
        names.append(f"implementation_{config['implementation']}")
    if settings:
        names += sorted(_settings(config)[0] | ({STRIDED_INPUT} if _run_elements(config) is not None else set()))
    return names


def held_indicators(variables: Iterable[str]) -> set[str]:
    """The indicators a predictor's training layers held, by its variables: those, and a strided first input where
    they have its run of elements (input_run_elements)."""
    held = set(variables)
    if CONFIG_PREFIX + RUN_VARIABLE in held:
        held.add(CONFIG_PREFIX + STRIDED_INPUT)
    return held


def is_setting(variable: str) -> bool:
    """Whether a variable is a setting's indicator (config.approximate=tanh)."""
    return SETTING_MARK in variable


def setting_key(variable: str) -> str:
    """What a setting's indicator sets (config.approximate of config.approximate=tanh); any other variable
    as it is."""
    return variable.partition(SETTING_MARK)[0]


def recorded_only_where_set(variable: str) -> bool:
    """Whether a setting's indicator (config.training=true, config.masks.attn_mask=bool) is of a key hwprof records
    only where set (SET_ONLY_KEYS), at the config's top level, or an attention's bias=false."""
    name = variable.removeprefix(CONFIG_PREFIX)
    return name == UNBIASED_ATTENTION or setting_key(name).split(".")[0] in SET_ONLY_KEYS


def _settings(config: dict) -> tuple[set[str], dict[str, float]]:
    """A config's setting indicators (see SETTING_MARK), and the numbers in its args and kwargs by their place."""
    indicators: set[str] = set()
    numbers: dict[str, float] = {}

    def visit(name: str, value: Any, nested: bool) -> None:
        if isinstance(value, bool):
            if value or nested:
                indicators.add(f"{name}{SETTING_MARK}{str(value).lower()}")
        elif isinstance(value, str):
            if not (nested and value == TENSOR_MARK):
                indicators.add(f"{name}{SETTING_MARK}{value}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not str(key).startswith("_"):  # F.softmax's _stacklevel: how it was called, not its work
                    visit(f"{name}.{key}", item, True)
        elif isinstance(value, list):
            number = _numeric(value) if nested else None  # a top-level list's product is a variable already
            if number is not None:
                numbers[name] = number
                return
            for item in value:
                if isinstance(item, (bool, str, list)):  # input_layouts, index_dtypes; cat's list of tensors
                    visit(name, item, nested)
        elif nested:
            number = _numeric(value)
            if number is not None:
                numbers[name] = number

    for key, value in config.items():
        if key in SHAPE_KEYS or key == STRIDES_KEY or (key in NAMED_TEXT_KEYS and isinstance(value, str)):
            continue
        if key in NESTED_KEYS and isinstance(value, list):
            value = {str(position): item for position, item in enumerate(value)}
        if key == LAYOUTS_KEY and isinstance(value, list):
            value = [STRIDED if isinstance(layout, list) else layout for layout in value]
        visit(key, value, key in NESTED_KEYS)
    if config.get("bias") is False and all(key in config for key in ATTENTION_KEYS):
        indicators.add(UNBIASED_ATTENTION)
    return indicators, numbers


# Network aggregates per group, in these units so coefficients stay near 1e-3..1e3:
# layers, GMACs, MB moved (inputs, outputs, weights), and MB of outputs written to freshly
# allocated memory (in-place ops write none). The last is what a network pays and its layers
# timed in isolation do not: a hot loop reuses one output buffer, a network faults in new pages.
AGGREGATE_KINDS = ("count", "gmac", "mb", "out_mb")
FRESH_KIND = AGGREGATE_KINDS.index("out_mb")
# The kinds additive (network-only) models regress on; out_mb is for the layer-sum correction.
ADDITIVE_KINDS = ("count", "gmac", "mb")


def setting_name(indicator: str) -> str | None:
    """The run setting an indicator variable (with or without its prefix) stands for, "float16" or
    "channels_last"; None for any other indicator."""
    name = indicator.removeprefix(CONFIG_PREFIX)
    for prefix in SETTING_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return None


def op_group(op: str) -> str:
    for group, prefixes in OP_GROUP_RULES:
        if op.startswith(prefixes):
            return group
    return "other"


@dataclass(frozen=True)
class LayerRecord:
    """The part of a layer a cost model sees: its op, hyper-parameters and analytic features."""

    op: str
    config: str  # JSON, sorted keys: the identity of the work
    flops: float
    input_bytes: float
    output_bytes: float
    weight_bytes: float

    @classmethod
    def from_layer(cls, layer: Any) -> LayerRecord:
        return cls(
            layer.op,
            layer.config_json(),
            float(layer.flops),
            float(layer.input_bytes),
            float(layer.output_bytes),
            float(layer.weight_bytes),
        )


def signed_log1p(value: float) -> float:
    return math.copysign(math.log1p(abs(value)), value)


def _numeric(value: Any) -> float | None:
    """A hyper-parameter as one number: lists by their product, booleans as 0/1, others skipped."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return float(math.prod(value))
    return None


def config_values(config: dict) -> dict[str, float]:
    """A layer's config variables: its numeric hyper-parameters at the top level, its indicators, the numbers
    in its args and kwargs, and a copy's run of elements in order."""
    values = {}
    for key, value in config.items():
        number = _numeric(value) if key not in SHAPE_KEYS and key != STRIDES_KEY else None
        if number is not None:
            values[CONFIG_PREFIX + key] = number
    indicators, numbers = _settings(config)
    for name, number in numbers.items():
        values[CONFIG_PREFIX + name] = number
    for name in indicator_names(config, settings=False) + sorted(indicators):
        values[CONFIG_PREFIX + name] = 1.0
    run = _run_elements(config)
    if run is not None:
        values[CONFIG_PREFIX + RUN_VARIABLE] = run
    return values


def _run_elements(config: dict) -> float | None:
    """How many elements a copy of a strided input reads in order at a time: the product of its trailing
    dimensions laid out in order (1 where even the last is strided, as a transpose's is), None without strides."""
    strides = config.get(STRIDES_KEY)
    shapes = config.get("input_shapes") or [[]]
    if not isinstance(strides, list) or not isinstance(shapes[0], list) or len(strides) != len(shapes[0]):
        return None
    run = 1
    for size, stride in zip(reversed(shapes[0]), reversed(strides)):
        if size == 1:
            continue  # a dimension of one is in order whatever its stride
        if stride != run:
            break
        run *= size
    return float(run)


def config_variables(configs: Iterable[dict]) -> list[str]:
    """The config variables found in these configs (see config_values), as variable names."""
    names: set[str] = set()
    for config in configs:
        names.update(config_values(config))
    return sorted(names)


def _shape_parts(shape: Sequence[int]) -> tuple[float, float, float]:
    """(dim 1, product of dims 2.., last dim) of a shape with its batch dimension."""
    if not shape:
        return 0.0, 0.0, 0.0
    dim1 = float(shape[1]) if len(shape) > 1 else 0.0
    rest = float(math.prod(shape[2:])) if len(shape) > 2 else 0.0
    return dim1, rest, float(shape[-1])


def raw_variables(record: LayerRecord, config: dict) -> dict[str, float]:
    """Every base and config variable of one layer, before the log transform."""
    inputs = config.get("input_shapes") or []
    output = config.get("output_shape") or []
    first = inputs[0] if inputs else output
    in_dim1, in_rest, in_last = _shape_parts(first)
    out_dim1, out_rest, out_last = _shape_parts(output)
    bytes_total = record.input_bytes + record.output_bytes + record.weight_bytes
    values = {
        "flops": record.flops,
        "input_bytes": record.input_bytes,
        "output_bytes": record.output_bytes,
        "weight_bytes": record.weight_bytes,
        "bytes_total": bytes_total,
        "intensity": record.flops / bytes_total if bytes_total > 0 else 0.0,
        "batch": float(first[0]) if first else 0.0,
        "in_dim1": in_dim1,
        "in_rest": in_rest,
        "in_last": in_last,
        "out_dim1": out_dim1,
        "out_rest": out_rest,
        "out_last": out_last,
        "n_inputs": float(len(inputs)),
    }
    values.update(gemm_sizes(config, output))
    values.update(config_values(config))
    return values


def gemm_sizes(config: dict, output: Sequence[int]) -> dict[str, float]:
    """M, N, K of the matrix product a convolution (im2col) or linear layer amounts to; {} for others."""
    outputs = float(math.prod(output)) if output else 0.0
    if all(key in config for key in ("in_channels", "out_channels", "kernel_size")) and len(output) > 2:
        groups = float(_numeric(config.get("groups", 1)) or 1.0)
        kernel = config["kernel_size"]
        taps = float(math.prod(kernel)) if isinstance(kernel, list) else float(kernel) ** (len(output) - 2)
        return {
            "gemm_m": config["out_channels"] / groups,
            "gemm_k": config["in_channels"] / groups * taps,
            "gemm_n": outputs / max(1.0, float(output[1])),
        }
    if "in_features" in config and "out_features" in config and output:
        return {
            "gemm_m": float(config["out_features"]),
            "gemm_k": float(config["in_features"]),
            "gemm_n": outputs / max(1.0, float(config["out_features"])),
        }
    return {}


def encode_layers(records: Sequence[LayerRecord], variables: Sequence[str]) -> np.ndarray:
    """(n_layers, n_variables) matrix of signed-log1p variables; a variable a layer lacks is 0."""
    column = {name: j for j, name in enumerate(variables)}
    matrix = np.zeros((len(records), len(variables)))
    for i, record in enumerate(records):
        for name, value in raw_variables(record, json.loads(record.config)).items():
            j = column.get(name)
            if j is not None:
                matrix[i, j] = signed_log1p(value)
    return matrix


def record_aggregates(record: LayerRecord) -> tuple[float, float, float, float]:
    """One layer's contribution to each AGGREGATE_KINDS column of its group."""
    fresh = 0.0 if '"inplace":true' in record.config else record.output_bytes / 1e6
    return 1.0, record.flops / 1e9, (record.input_bytes + record.output_bytes + record.weight_bytes) / 1e6, fresh


def aggregate_row(records: Sequence[LayerRecord], groups: Sequence[str] = OP_GROUPS) -> np.ndarray:
    """Per op group, the AGGREGATE_KINDS sums over the layers."""
    position = {group: i for i, group in enumerate(groups)}
    row = np.zeros((len(groups), len(AGGREGATE_KINDS)))
    for record in records:
        g = position.get(op_group(record.op), position.get("other"))
        if g is None:
            continue
        row[g] += record_aggregates(record)
    return row.ravel()


@dataclass
class NetworkBatch:
    """Many networks as unique layer configurations plus who contains what.

    `membership[n, u]` counts how often network n runs unique layer u, so any
    per-layer quantity v sums to the networks as `membership @ v`.
    """

    names: list[str]
    batch_sizes: np.ndarray  # (n_networks,)
    layers: list[LayerRecord]  # unique configurations
    membership: sp.csr_matrix  # (n_networks, n_unique)
    aggregates: np.ndarray  # (n_networks, len(AGGREGATE_KINDS) * len(OP_GROUPS)): each kind of each group

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_layer_lists(
        cls, names: Sequence[str], batch_sizes: Sequence[int], layer_lists: Sequence[Sequence[LayerRecord]]
    ) -> NetworkBatch:
        unique: dict[tuple[str, str], int] = {}
        ordered: list[LayerRecord] = []
        rows, cols = [], []
        aggregates = np.zeros((len(layer_lists), len(OP_GROUPS) * len(AGGREGATE_KINDS)))
        for n, records in enumerate(layer_lists):
            for record in records:
                key = (record.op, record.config)
                u = unique.get(key)
                if u is None:
                    u = unique[key] = len(ordered)
                    ordered.append(record)
                rows.append(n)
                cols.append(u)
            aggregates[n] = aggregate_row(records)
        membership = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(layer_lists), len(ordered)))
        membership.sum_duplicates()
        return cls(list(names), np.asarray(batch_sizes, dtype=float), ordered, membership, aggregates)

    def select(self, index: Sequence[int]) -> NetworkBatch:
        """A sub-batch of these networks (the unique-layer table is shared, not copied)."""
        index = np.asarray(index, dtype=int)
        return NetworkBatch(
            [self.names[i] for i in index],
            self.batch_sizes[index],
            self.layers,
            self.membership[index],
            self.aggregates[index],
        )
