"""Layer records without running the network: shape propagation on meta tensors.

Prediction needs each layer's op, shapes, dtype, MACs and bytes, never its
values. On the meta device a tensor has a shape and no storage, so a network
built there costs no weight memory and its forward pass does no arithmetic:
tracing ResNet-50 at batch 256 costs the same as at batch 1, and a model too
large for the host can still be predicted. A model that cannot run on meta
(it reads tensor values, or puts tensors on a device of its own) is traced on
real tensors instead, and the trace says so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from hwprof.errors import HwprofError
from hwprof.models.inputs import DTYPES, ModelInputs
from hwprof.models.layers import Layer, extract_layers_from_example, run_and_extract

META = torch.device("meta")

# Functions whose result has the input's shape, dtype and layout. On meta some
# of them (batch norm, layer norm) run Python decompositions costing
# milliseconds each, so their result is made directly.
SHAPE_PRESERVING = {
    F.batch_norm,
    F.layer_norm,
    F.group_norm,
    F.instance_norm,
    F.relu,
    F.relu6,
    F.hardtanh,
    F.gelu,
    F.silu,
    F.hardswish,
    F.hardsigmoid,
    F.leaky_relu,
    F.elu,
    F.dropout,
    torch.sigmoid,
    torch.tanh,
    torch.relu,
}
# F.relu(x, True), F.leaky_relu(x, 0.01, True): the in-place flag is their last positional argument.
INPLACE_LAST = {F.relu, F.relu6, F.hardtanh, F.leaky_relu, F.elu, F.hardswish, F.hardsigmoid, F.silu}
if hasattr(F, "rms_norm"):
    SHAPE_PRESERVING.add(F.rms_norm)


@dataclass(frozen=True)
class Trace:
    """A network's layers and how they were found."""

    layers: list[Layer]
    method: str  # "fx" or "hooks": how the layers were found
    tensors: str  # "meta" (no arithmetic) or "real" (a forward pass on the host)
    reason: str = ""  # why real tensors were needed, when they were

    @property
    def description(self) -> str:
        if self.tensors == "meta":
            return "traced on meta tensors (no arithmetic)"
        return f"traced on real tensors, a forward pass on the host, because {self.reason}"


def trace_layers(
    module: nn.Module,
    input_shape: tuple[int, ...] | ModelInputs,
    batch_size: int = 1,
    label: str = "",
    rebuild: Callable[[], nn.Module] | None = None,
    *,
    seq_len: int | None = None,
    dtype: str = "float32",
    channels_last: bool = False,
) -> Trace:
    """Layers of `module` at this batch size, found without real compute where the model allows it.

    `input_shape` is one sample's shape or a ModelInputs (several, integer or keyword inputs); the network
    runs in `dtype` and, with `channels_last`, NHWC, as `measure --dtype --channels-last` runs it.
    The caller's module is never changed: one with real weights is traced through a meta copy. A module
    built on meta that cannot run there needs `rebuild`, which builds it with real weights.
    """
    inputs = input_shape if isinstance(input_shape, ModelInputs) else ModelInputs.from_shape(input_shape)
    float_dtype = DTYPES[dtype]
    try:
        meta_module = _as_run(module if _all_meta(module) else meta_copy(module), float_dtype, channels_last)
        args, kwargs = inputs.make(batch_size, seq_len, META, float_dtype, channels_last)
        with torch.no_grad(), _ShapesOnly():
            layers, method = extract_layers_from_example(meta_module, args, kwargs)
        return Trace(layers, method, "meta")
    except Exception as error:  # any failure on meta: the real forward pass is the reference
        reason = _first_line(error)
    if _all_meta(module):
        if rebuild is None:
            raise HwprofError(
                f"{label or type(module).__name__} has its weights on the meta device and cannot be traced "
                f"there ({reason}); give it with real weights"
            )
        module = rebuild()
    elif dtype != "float32" or channels_last:
        module = copy.deepcopy(module)  # the caller's module keeps its dtype and layout
    module = _as_run(module, float_dtype, channels_last)
    layers, method = run_and_extract(
        module, inputs, batch_size, label=label, seq_len=seq_len, dtype=float_dtype, channels_last=channels_last
    )
    return Trace(layers, method, "real", reason)


def _as_run(module: nn.Module, dtype: torch.dtype, channels_last: bool) -> nn.Module:
    """`module` in the dtype and layout of the run (in place; callers pass a copy of the user's module)."""
    if dtype != torch.float32:
        module = module.to(dtype=dtype)
    return module.to(memory_format=torch.channels_last) if channels_last else module


def meta_copy(module: nn.Module) -> nn.Module:
    """A copy of `module` whose parameters and buffers are meta tensors: no weight is copied."""
    memo: dict[int, object] = {}
    for parameter in module.parameters():
        memo[id(parameter)] = nn.Parameter(torch.empty_like(parameter, device=META), parameter.requires_grad)
    for buffer in module.buffers():
        memo[id(buffer)] = torch.empty_like(buffer, device=META)
    return copy.deepcopy(module, memo)


def _all_meta(module: nn.Module) -> bool:
    tensors = [*module.parameters(), *module.buffers()]
    return bool(tensors) and all(t.is_meta for t in tensors)


class _ShapesOnly(TorchFunctionMode):
    """Answers shape-preserving functions with an empty tensor of the input's shape."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in SHAPE_PRESERVING and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            if kwargs.get("inplace") or (func in INPLACE_LAST and len(args) >= 2 and args[-1] is True):
                return args[0]
            return torch.empty_like(args[0])
        return func(*args, **kwargs)


def _first_line(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
