"""Layer records without running the network: shape propagation on meta tensors.

Prediction needs each layer's op, shapes, dtype, MACs and bytes, never its
values. On the meta device a tensor has a shape and no storage, so a network
built there costs no weight memory and its forward pass does no arithmetic:
tracing ResNet-50 at batch 256 costs the same as at batch 1, and a model too
large for the host can still be predicted. A meta tensor filled with one
known value (an attention mask of ones) keeps that value through the few ops
that preserve it, so code that reads it (transformers asks whether any token
is padding) gets the answer a real run gets. A model that reads any other
value, or puts tensors on a device of its own, is traced on real tensors
instead, and the trace says so. A mixture-of-experts router's choices are
such values: the experts' grouped matmul records the same whatever they are,
and an experts loop written in Python, which reads them, is traced with the
choices spread evenly over the experts (the trace's `assumed` says so).
"""

from __future__ import annotations

import copy
import math
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._device import DeviceContext, _device_constructors

from hwprof.drivers.host import available_memory_bytes
from hwprof.errors import HwprofError, error_line, is_out_of_memory, warn
from hwprof.models.inputs import (
    DEFAULT_SEQ_LEN,
    DTYPES,
    ModelInputs,
    computed_tensors,
    converted_for_run,
    copy_module,
    hookless_copy,
    hooks_left_behind,
    kept_mixed_note,
    mixes_in,
)
from hwprof.models.layers import (
    Layer,
    _drops,
    _is_channels_last,
    _writes_in_place,
    extract_layers_from_example,
    refuse_torchscript,
    run_and_extract,
    run_failure,
)

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
# Element-wise ops of two tensors: on meta each runs torch._refs' Python type promotion and broadcasting
# (about 0.3 ms); see _elementwise_result for the cases answered directly.
ELEMENTWISE = {getattr(torch.Tensor, name) for name in ("add", "__add__", "__radd__", "mul", "__mul__", "__rmul__")}
ELEMENTWISE |= {getattr(torch.Tensor, name) for name in ("sub", "__sub__")} | {torch.add, torch.mul, torch.sub}
# On meta a 2-D convolution returns NCHW whatever its inputs' layout; see _convolution_laid_out_as_on_cpu.
CONVOLUTIONS = {torch.conv2d, F.conv2d}
# Recurrent layers' kernels: on meta torch runs their decomposition step by step in Python (about a second for
# an LSTM over 512 steps), though their results' shapes follow from the input's and the initial states'; see
# _recurrent_result.
RECURRENT_KERNELS = {torch.lstm, torch.gru, torch.rnn_tanh, torch.rnn_relu}
# Mixture-of-experts grouped matmuls (F.grouped_mm calls torch._grouped_mm, which came with torch 2.8): torch's meta
# kernel repeats the CUDA kernel's checks and refuses float32 and float16, which the CPU runs; see
# _grouped_mm_result.
GROUPED_MM_KERNELS = {torch._grouped_mm} if hasattr(torch, "_grouped_mm") else set()
# The CPU's normalisation kernels write a contiguous result whatever the input's strides (a permuted or
# transposed input, as ConvNeXt's and Swin's norms get), except that batch, group and RMS norm keep NHWC.
NORMS = {F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm}
KEEP_CHANNELS_LAST = {F.batch_norm, F.group_norm}
if hasattr(F, "rms_norm"):
    SHAPE_PRESERVING.add(F.rms_norm)
    NORMS.add(F.rms_norm)
    KEEP_CHANNELS_LAST.add(F.rms_norm)

# Known values on meta (see _ShapesOnly). Factories that fill a tensor with one value (None: torch.full's
# fill_value, its second argument).
FILLS = {
    torch.ones: 1,
    torch.ones_like: 1,
    torch.zeros: 0,
    torch.zeros_like: 0,
    torch.full: None,
    torch.full_like: None,
}
# Ops whose every output element is an element of their first argument (other tensors among their arguments
# give only a shape, a dtype or indices): a filled tensor stays filled.
_CASTS = ("to", "bool", "int", "long", "float", "half", "bfloat16", "double", "__getitem__", "expand_as", "view_as")
_VIEWS = ("expand", "view", "t", "contiguous", "clone", "reshape", "unsqueeze", "squeeze", "flatten", "permute")
_VIEWS += ("transpose", "broadcast_to")
KEEPS_VALUE = {getattr(torch.Tensor, name) for name in (*_CASTS, *_VIEWS) if hasattr(torch.Tensor, name)}
KEEPS_VALUE |= {getattr(torch, name) for name in _VIEWS if callable(getattr(torch, name, None))}
# Reductions to an element of the input, only with no second tensor (torch.max(a, b) is elementwise).
SELECTS = {getattr(owner, name) for owner in (torch, torch.Tensor) for name in ("min", "max", "amin", "amax", "mean")}
COMPARISONS = {
    func: compare
    for name, compare in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt))
    + (("le", operator.le), ("gt", operator.gt), ("ge", operator.ge))
    for func in (getattr(torch, name), getattr(torch.Tensor, name), getattr(torch.Tensor, f"__{name}__"))
}
COMPARISONS |= {torch.greater: operator.gt, torch.Tensor.greater: operator.gt}  # aliases, other objects
COMPARISONS |= {torch.greater_equal: operator.ge, torch.Tensor.greater_equal: operator.ge}
NEGATIONS = {torch.Tensor.__invert__, torch.Tensor.logical_not, torch.logical_not, torch.Tensor.bitwise_not}
REDUCTIONS = {getattr(owner, name): name for owner in (torch, torch.Tensor) for name in ("sum", "all", "any")}
# Reading a one-element tensor's value into Python (None: as it is).
READS = {torch.Tensor.__bool__: bool, torch.Tensor.item: None, torch.Tensor.__int__: int, torch.Tensor.__float__: float}
READS[torch.Tensor.__index__] = int


# Weight initialisers: on meta there are no values to initialise, yet torch runs each one's Python
# decomposition; skipping them shortens building a network there.
INITIALISERS = {getattr(nn.init, name) for name in dir(nn.init) if name.endswith("_") and not name.startswith("_")}
INITIALISERS |= {getattr(torch.Tensor, name) for name in ("uniform_", "normal_", "random_", "exponential_")}


class MetaDevice(DeviceContext):
    """`torch.device("meta")` as a context for building modules, without initialising their weights."""

    def __init__(self) -> None:
        super().__init__(META)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in INITIALISERS:
            tensor = args[0] if args else kwargs.get("tensor")
            if isinstance(tensor, torch.Tensor) and tensor.is_meta:
                return tensor
        if func in _device_constructors() and kwargs.get("device") is None:
            kwargs["device"] = self.device
        return func(*args, **kwargs)


@dataclass(frozen=True)
class Trace:
    """A network's layers and how they were found."""

    layers: list[Layer]
    method: str  # "fx" or "hooks": how the layers were found
    tensors: str  # "meta" (no arithmetic) or "real" (a forward pass on the host)
    reason: str = ""  # why real tensors were needed, when they were
    assumed: str = ""  # on meta, what stood in for values the model read (EVEN_ROUTING), when anything did

    @property
    def description(self) -> str:
        if self.tensors == "meta":
            return "traced on meta tensors (no arithmetic)" + (f", with {self.assumed}" if self.assumed else "")
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
    The caller's module is never changed: one with real weights is traced through a meta copy, or, where it
    cannot run there, through a copy without the host's hooks (hookless_copy), on inputs drawn the same every
    time (own_random_numbers). A module built on meta that cannot run there needs `rebuild`, which builds it
    with real weights.
    """
    refuse_torchscript(module, label or type(module).__name__)
    inputs = input_shape if isinstance(input_shape, ModelInputs) else ModelInputs.from_shape(input_shape)
    float_dtype = DTYPES[dtype]
    if float_dtype != torch.float32 and mixes_in(module, float_dtype):
        warn(kept_mixed_note(module, float_dtype, label or type(module).__name__))
    try:
        meta_module = _as_run(module if _all_meta(module) else meta_copy(module), float_dtype, channels_last)
        shapes_only = _ShapesOnly()
        with torch.no_grad(), shapes_only:  # inputs made inside: an attention mask of ones is a known value
            args, kwargs = inputs.make(batch_size, seq_len, META, float_dtype, channels_last)
            layers, method = extract_layers_from_example(meta_module, args, kwargs, recipes=False)
        return Trace(layers, method, "meta", assumed=EVEN_ROUTING if shapes_only.routing.used else "")
    except SystemExit as stop:  # a forward that exits on shapes alone exits on real tensors too: one sentence
        described = inputs.describe(batch_size, seq_len, float_dtype)
        raise HwprofError(run_failure(label or type(module).__name__, described, stop)) from None
    except Exception as error:  # any failure on meta: the real forward pass is the reference
        reason = _what_failed(error)
    if _all_meta(module):
        if rebuild is None:
            raise HwprofError(
                f"{label or type(module).__name__} has its weights on the meta device and cannot be traced "
                f"there ({reason}); give it with real weights"
            )
        _refuse_if_weights_do_not_fit(module, label or type(module).__name__, reason)
        uncopied = ""
        failed = f"{label or type(module).__name__} cannot be traced on meta tensors"
        with own_random_numbers(), weights_in_memory(failed, reason):  # its weights are initialised
            module = rebuild()
    else:  # the caller's module keeps its dtype, layout, state and hooks
        module, uncopied = _run_copy(module, float_dtype, channels_last, label or type(module).__name__)
    _refuse_if_inputs_do_not_fit(inputs, batch_size, seq_len, float_dtype, label or type(module).__name__, reason)
    module = _as_run(module, float_dtype, channels_last)
    modes = [(part, part.training) for part in module.modules()]  # the run puts it in eval mode
    try:
        with own_random_numbers():
            layers, method = run_and_extract(
                module, inputs, batch_size, label=label, seq_len=seq_len, dtype=float_dtype, channels_last=channels_last
            )
    finally:
        for part, training in modes:
            part.training = training
    return Trace(layers, method, "real", reason + uncopied)


TRACE_SEED = 0  # the random numbers a trace draws: the same ones every time


def forked_generators():
    """torch.random.fork_rng over the CPU's generator and, only where CUDA is in use already, CUDA's: forking
    those would start CUDA in the host. The host's generators are as they were when the block ends."""
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    return torch.random.fork_rng(devices=cuda)


@contextmanager
def own_random_numbers() -> Iterator[None]:
    """torch's generators forked from the host's (forked_generators) and seeded with TRACE_SEED for the span of
    the block, for what a trace draws (a real pass's inputs, a lazy layer's weights): one module always gives one
    trace, and a host's seeded run draws after a prediction what it would have drawn without it."""
    with forked_generators():
        torch.default_generator.manual_seed(TRACE_SEED)  # not torch.manual_seed: it would queue CUDA's seeding
        if torch.cuda.is_initialized():
            torch.cuda.manual_seed_all(TRACE_SEED)
        yield


@contextmanager
def weights_in_memory(failed_on_meta: str, reason: BaseException | str) -> Iterator[None]:
    """A block that makes a model's real weights for a prediction, since `failed_on_meta` (what could not be done
    on meta tensors) for `reason`: an allocation that fails there is one sentence naming the weights. torch's
    allocator raises a RuntimeError, which the CLI words as a batch too large for memory, though the batch is
    no part of a model's weights."""
    try:
        yield
    except (MemoryError, RuntimeError) as error:
        if not is_out_of_memory(error):
            raise
        why = reason if isinstance(reason, str) else _what_failed(reason)
        raise HwprofError(
            f"{failed_on_meta} ({why}), and its real weights do not fit in the memory available "
            f"({error_line(error)}): give hwprof more memory (other processes, a container's memory limit or "
            "`ulimit -v` may leave less than the machine has)"
        ) from None


def _what_failed(error: BaseException) -> str:
    """The first sentence of torch's message, which says what failed; the sentences after it are torch's advice to
    its own developers ("please set torch.fx.experimental._config...", "If you are a Facebook employee ..."),
    no advice to a user of hwprof."""
    return re.split(r"(?<=[.!?])\s+(?=[A-Z'\"])", error_line(error), maxsplit=1)[0].rstrip(".")


def _as_run(module: nn.Module, dtype: torch.dtype, channels_last: bool) -> nn.Module:
    """`module` in the dtype and layout of the run (in place; callers pass a copy of the user's module). One mostly
    in the run's dtype beside other float dtypes keeps them, as at float32, and a Hugging Face model keeps the
    modules it lists as float32 (converted_for_run), as measure does."""
    module = converted_for_run(module, dtype)
    return to_channels_last(module) if channels_last else module


def to_channels_last(module: nn.Module) -> nn.Module:
    """`module` with its 4-D parameters and buffers laid out NHWC (in place, as .to does), the others as they are:
    torch's .to(memory_format=torch.channels_last) fails on a Conv3d's 5-D weight, where --channels-last, which
    lays out 4-D tensors only, promises to run such a model as it is."""
    return module._apply(lambda t: t.to(memory_format=torch.channels_last) if t.dim() == 4 else t)


def for_run(
    module: nn.Module, dtype: torch.dtype, channels_last: bool, device: torch.device | None, label: str, verb: str
) -> nn.Module:
    """What a run converts in place to its device, dtype and layout: `module` itself where that changes nothing of
    it (its user converted it already), else a copy, so the caller's module keeps its own. A module that cannot be
    copied is one sentence naming the conversions that make a copy needless. `device` None: the run leaves it."""
    steps = _conversions(module, dtype, channels_last, device)
    if not steps:
        return module
    try:
        return copy_module(module)
    except Exception as error:
        raise _uncopyable(label, error, steps, verb) from None


def _conversions(module: nn.Module, dtype: torch.dtype, channels_last: bool, device: torch.device | None) -> list[str]:
    """The calls that would convert `module` to a run's device, dtype and layout; none where it is converted."""
    tensors = [*module.parameters(), *module.buffers()]
    steps = []
    if device is not None and any(t.device != device for t in tensors):
        steps.append(f"module.to({str(device)!r})")
    converts = dtype != torch.float32 and not mixes_in(module, dtype)  # else its weights keep their dtypes
    if converts and any(t.is_floating_point() and t.dtype != dtype for t in tensors):
        steps.append(f"module.to({dtype})")
    if channels_last and any(t.dim() == 4 and not t.is_contiguous(memory_format=torch.channels_last) for t in tensors):
        steps.append("module.to(memory_format=torch.channels_last)")
    return steps


def _uncopyable(label: str, error: Exception, steps: list[str], verb: str) -> HwprofError:
    return HwprofError(
        f"{label} could not be copied to convert it for this run ({error_line(error)}): convert it yourself "
        f"({', '.join(steps)}) and {verb} it with the same settings, which then need no copy"
    )


def _run_copy(module: nn.Module, dtype: torch.dtype, channels_last: bool, label: str) -> tuple[nn.Module, str]:
    """(module, note): what a real forward pass for predict runs, a copy of the caller's module without its hooks
    (hookless_copy) whose parameters are the caller's where the run converts nothing, so no weight is copied.
    A module that cannot be copied, needing no conversion, runs itself, and the note says so."""
    steps = _conversions(module, dtype, channels_last, None)
    try:
        return hookless_copy(module, parameters_shared=not steps), ""
    except Exception as error:
        if steps:
            raise _uncopyable(label, error, steps, "predict") from None
        return module, "; it ran itself, with its hooks, as it could not be copied"  # the reason says why


def meta_copy(module: nn.Module) -> nn.Module:
    """A copy of `module` whose parameters and buffers are meta tensors: no weight is copied. The host's hooks
    stay behind: run on the copy, a hook that logs activations would log meta tensors into the host's state.
    torch's own forward hooks (weight_norm, spectral_norm, pruning) compute weights, and are kept, and so are
    the weights they computed, as meta tensors (computed_tensors)."""
    memo: dict[int, object] = {}
    for parameter in module.parameters():
        memo[id(parameter)] = nn.Parameter(torch.empty_like(parameter, device=META), parameter.requires_grad)
    for tensor in [*module.buffers(), *computed_tensors(module)]:
        memo[id(tensor)] = torch.empty_like(tensor, device=META)
    return copy.deepcopy(module, memo | hooks_left_behind(module))


def _refuse_if_weights_do_not_fit(module: nn.Module, label: str, reason: str) -> None:
    """Rebuilding with real weights must not exhaust the host: their size is known from the meta module."""
    weight_bytes = sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
    free_bytes = available_memory_bytes()
    if weight_bytes > free_bytes:
        raise HwprofError(
            f"{label} cannot be traced on meta tensors ({reason}), and tracing it on real tensors needs its "
            f"weights, {weight_bytes / 1e9:.1f} GB, more than the {free_bytes / 1e9:.1f} GB of memory available"
        )


def _refuse_if_inputs_do_not_fit(
    inputs: ModelInputs, batch_size: int, seq_len: int | None, float_dtype: torch.dtype, label: str, reason: str
) -> None:
    """A real forward pass needs at least its inputs in memory: a batch whose inputs alone exceed what is free
    (a batch far beyond any host, predicted on meta until meta failed) is refused before it is allocated."""
    seq_len = seq_len or inputs.default_seq_len or DEFAULT_SEQ_LEN
    input_bytes = sum(
        math.prod(spec.shape_at(batch_size, seq_len))
        * (float_dtype if spec.dtype.is_floating_point else spec.dtype).itemsize
        for spec in inputs.specs
    )
    free_bytes = available_memory_bytes()
    if input_bytes > free_bytes:
        raise HwprofError(
            f"{label} cannot be traced on meta tensors at batch size {batch_size} ({reason}), and tracing it on "
            f"real tensors needs {input_bytes / 1e9:.3g} GB for its inputs alone, more than the "
            f"{free_bytes / 1e9:.1f} GB of memory available; predict a smaller batch size"
        )


def _all_meta(module: nn.Module) -> bool:
    tensors = [*module.parameters(), *module.buffers()]
    return bool(tensors) and all(t.is_meta for t in tensors)


class _ShapesOnly(TorchFunctionMode):
    """Answers shape-preserving functions with an empty tensor of the input's shape, and tracks meta tensors
    filled with one known value (every element the same), so that reading one gives the value a real run reads.

    A value is known only from a fill (torch.ones, zeros, full and their _like) through ops that keep it
    (casts, views, indexing, min and max), reduce it (sum, all, any) or compare it with another known value;
    anything else has no value on meta, and reading it fails as before, sending the model to real tensors.
    Any write in place forgets every known value, since it may reach a filled tensor through a view.
    """

    def __init__(self):
        super().__init__()
        self.filled: dict[int, tuple[torch.Tensor, bool | int | float]] = {}  # id -> (the tensor, its value)
        self.routing = _EvenRouting()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        writes = _writes_in_place(func, args, kwargs)
        in_place = writes or func is torch.Tensor.__setitem__ or "out" in kwargs
        if in_place:
            self.filled.clear()
            self.routing.forget(kwargs.get("out", args[0] if args else None))
        if func in SHAPE_PRESERVING and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            if writes or (func is F.dropout and not _drops(args, kwargs)):
                return args[0]  # as on real tensors: the input itself, not a copy (a dropout's: not a layer)
            return _normalised(func, args[0]) if func in NORMS else _empty_like(args[0])
        if func in ELEMENTWISE and not kwargs and len(args) == 2:
            result = _elementwise_result(*args)
            if result is not None:
                return result
        if func is F.adaptive_avg_pool2d and _contiguous_meta(args[0]):
            return _adaptive_pool_result(*args, **kwargs)
        if func is F.avg_pool2d and _contiguous_meta(args[0]) and args[0].dim() == 4:
            result = _pool_result(*args, **kwargs)
            if result is not None:
                return result
        if func in RECURRENT_KERNELS and not kwargs:
            result = _recurrent_result(args)
            if result is not None:
                return result
        if func in GROUPED_MM_KERNELS:
            result = _grouped_mm_result(args, kwargs)
            if result is not None:
                return result
        if func in CONVOLUTIONS:
            return _convolution_laid_out_as_on_cpu(func(*args, **kwargs), args, kwargs)
        if func is F.scaled_dot_product_attention:
            return _attention_laid_out_as_on_cpu(func(*args, **kwargs), args, kwargs)
        if func in READS and args and self.value(args[0]) is not None and args[0].numel() == 1:
            read = READS[func] or (lambda value: value)
            return read(self.value(args[0]))
        routed = self.routing.answer(func, args, kwargs)
        if routed is not None:
            return routed
        try:
            result = func(*args, **kwargs)
        except NotImplementedError:
            if func in READS and args and _meta(args[0]):  # torch 2.1 names only the kernel meta lacks
                raise RuntimeError("Tensor.item() cannot be called on meta tensors") from None
            raise
        if not in_place:
            self.routing.follow(func, args, kwargs, result)
        if isinstance(result, torch.Tensor) and result.is_meta and not in_place:
            value = self._value_of_result(func, args, kwargs, result)
            if value is not None:
                self.filled[id(result)] = (result, _as_dtype(value, result.dtype))
        return result

    def value(self, tensor) -> bool | int | float | None:
        """The value every element of `tensor` has, where it is known."""
        return _held(self.filled, tensor)

    def _value_of_result(self, func, args, kwargs, result):
        if func in FILLS:
            given = FILLS[func]
            if given is not None:
                return given
            value = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
            return value if isinstance(value, (bool, int, float)) else None
        if not args or not isinstance(args[0], torch.Tensor):
            return None
        value = self.value(args[0])
        if func in COMPARISONS and len(args) == 2:
            other = args[1] if isinstance(args[1], (bool, int, float)) else self.value(args[1])
            return None if value is None or other is None else COMPARISONS[func](value, other)
        if value is None:
            return None
        if func in KEEPS_VALUE:
            return value
        if func in SELECTS:
            others = [a for a in (*args[1:], *kwargs.values()) if isinstance(a, torch.Tensor)]
            return None if others else value
        if func in NEGATIONS:
            return not value if result.dtype == torch.bool else ~int(value)
        if func in REDUCTIONS:
            group = args[0].numel() // result.numel() if result.numel() else 0  # elements reduced into each result
            kind = REDUCTIONS[func]
            if kind == "sum":
                return value * group
            return (bool(value) or group == 0) if kind == "all" else (bool(value) and group > 0)
        return None


# Mixture-of-experts routing on meta (see _EvenRouting): the router's choices, a one-hot mask of them, and what the
# experts' loop reads from the mask.
TOPK = {torch.topk, torch.Tensor.topk}
ONE_HOT = {F.one_hot}
PERMUTES = {torch.permute, torch.Tensor.permute}
NONZERO = {torch.nonzero, torch.Tensor.nonzero}
EVEN_ROUTING = "each expert given an even share of the tokens' expert choices (tokens x top_k / experts rows)"


class _EvenRouting:
    """Which tokens a mixture-of-experts router sends to which expert is a value meta tensors do not have, yet
    an experts loop written in Python (transformers' eager experts, and Mixtral's and Qwen2-MoE's before
    transformers 5) asks which experts were chosen (nonzero) and which tokens each got (torch.where), so it
    failed on meta and went to real tensors. Here the router's choices (torch.topk's indices over E experts)
    are assumed spread evenly: of n = tokens x top_k choices, expert e gets n // E, one more for the first
    n % E experts, as routing each token's j-th choice to expert (token x top_k + j) mod E does. The loop
    sees those counts: the experts chosen are real integers it can compare, and each expert's rows have its
    count, so its layers have the shapes, MACs and bytes of a real run routed that way. Only this pattern is
    followed (topk indices -> one_hot -> permute -> sum over the tokens and choices, or one expert's slice);
    anything else still has no value on meta."""

    def __init__(self) -> None:
        self.routes: dict[int, tuple[torch.Tensor, tuple]] = {}  # id -> (the tensor, what it holds)
        self.used = False  # whether a loop read a count, so the trace rests on the assumption

    def forget(self, written) -> None:
        """A write in place may change what a tagged tensor holds, when it is that tensor or shares its base (a
        router normalising its top-k weights in place leaves its indices tagged); unknown, every tag goes."""
        if not isinstance(written, torch.Tensor):
            self.routes.clear()
            return
        base = written._base if written._base is not None else written
        for key, (tensor, _) in list(self.routes.items()):
            if (tensor._base if tensor._base is not None else tensor) is base:
                del self.routes[key]

    def route(self, tensor) -> tuple | None:
        return _held(self.routes, tensor)

    def answer(self, func, args: tuple, kwargs: dict):
        """nonzero of the experts chosen (real integers), or torch.where / nonzero of one expert's slice of the
        mask (meta indices of its count); None for any other call."""
        found = self.route(args[0]) if args else None
        if found is None or found[0] not in ("chosen", "slice"):
            return None
        as_tuple = kwargs.get("as_tuple", False)
        if func is torch.where and len(args) == 1 and not kwargs:
            as_tuple = True
        elif func not in NONZERO:
            return None
        self.used = True
        if found[0] == "chosen":
            experts = torch.tensor([e for e, chosen in enumerate(found[1]) if chosen], dtype=torch.long)
            return (experts,) if as_tuple else experts.unsqueeze(1)
        rows, dims = found[1], args[0].dim()
        if as_tuple:
            return tuple(torch.empty(rows, dtype=torch.long, device=META) for _ in range(dims))
        return torch.empty((rows, dims), dtype=torch.long, device=META)

    def follow(self, func, args: tuple, kwargs: dict, result) -> None:
        """Tag `result` where it is the router's choices or what the experts' loop makes of them."""
        if func in TOPK and isinstance(result, tuple) and len(result) == 2 and args and _meta(args[0]):
            dim = kwargs.get("dim", args[2] if len(args) > 2 else -1)
            self._tag(result[1], ("choices", args[0].shape[dim]))
            return
        found = self.route(args[0]) if args else None
        if found is None or not isinstance(result, torch.Tensor):
            return
        kind = found[0]
        if kind == "choices" and func in KEEPS_VALUE and func is not torch.Tensor.__getitem__:
            self._tag(result, found)
        elif kind == "choices" and func in ONE_HOT and _meta(result):
            experts, choices = found[1], args[0].numel()
            counts = [choices // experts + (e < choices % experts) for e in range(experts)]
            counts += [0] * (result.shape[-1] - experts)  # classes past the experts (transformers' sentinel)
            self._tag(result, ("mask", counts, result.dim() - 1))
        elif kind == "mask":
            self._follow_mask(func, args, kwargs, result, *found[1:])
        elif kind == "counts" and func in COMPARISONS and len(args) == 2 and isinstance(args[1], int):
            self._tag(result, ("chosen", [COMPARISONS[func](c, args[1]) for c in found[1]]))

    def _follow_mask(self, func, args, kwargs, result, counts: list[int], axis: int) -> None:
        mask = args[0]
        if func in PERMUTES:
            given = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
            dims = [d % mask.dim() for d in kwargs.get("dims", given)]
            if sorted(dims) == list(range(mask.dim())):
                self._tag(result, ("mask", counts, dims.index(axis)))
        elif REDUCTIONS.get(func) == "sum" and _meta(result) and result.dim() == 1:  # one count per expert
            dims = kwargs.get("dim", args[1] if len(args) > 1 else None)
            dims = [dims] if isinstance(dims, int) else list(dims or ())
            if sorted(d % mask.dim() for d in dims) == [d for d in range(mask.dim()) if d != axis]:
                self._tag(result, ("counts", counts))
        elif func is torch.Tensor.__getitem__ and axis == 0 and _meta(result):
            index = args[1]
            if isinstance(index, torch.Tensor) and not index.is_meta and index.numel() == 1:
                index = int(index)
            if isinstance(index, int) and 0 <= index < len(counts):
                self._tag(result, ("slice", counts[index]))

    def _tag(self, tensor, what: tuple) -> None:
        if isinstance(tensor, torch.Tensor):
            self.routes[id(tensor)] = (tensor, what)


def _held(table: dict, tensor):
    """What `table` (id -> (tensor, what it holds)) holds for `tensor`: an id is checked against its tensor, as a
    tensor freed since may have left its id to another."""
    entry = table.get(id(tensor))
    return entry[1] if entry is not None and entry[0] is tensor else None


def _meta(tensor) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.is_meta


def _empty_like(tensor: torch.Tensor) -> torch.Tensor:
    """torch.empty_like on meta spends about 60 µs in Python stride logic; for the two dense layouts a plain
    torch.empty gives the same tensor in a few."""
    if tensor.is_contiguous():
        return torch.empty(tensor.shape, dtype=tensor.dtype, device=META)
    if tensor.dim() == 4 and tensor.is_contiguous(memory_format=torch.channels_last):
        return torch.empty(tensor.shape, dtype=tensor.dtype, device=META, memory_format=torch.channels_last)
    return torch.empty_like(tensor)


def _normalised(func, tensor: torch.Tensor) -> torch.Tensor:
    """A normalisation's result, laid out as the CPU lays it out."""
    keep_nhwc = func in KEEP_CHANNELS_LAST and tensor.dim() == 4 and not tensor.is_contiguous()
    if keep_nhwc and tensor.is_contiguous(memory_format=torch.channels_last):
        return torch.empty(tensor.shape, dtype=tensor.dtype, device=META, memory_format=torch.channels_last)
    return torch.empty(tensor.shape, dtype=tensor.dtype, device=META)


def _convolution_laid_out_as_on_cpu(result, args: tuple, kwargs: dict):
    """A 2-D convolution's meta result in the layout the CPU's kernel writes. Meta tensors carry no device,
    so torch's meta convolution is always NCHW, where the CPU's backend decides: oneDNN writes NHWC for an
    input or weight laid out NHWC (under --channels-last, or a channel slice or token reshape of an NHWC
    tensor), the native kernels NCHW, and which backend runs depends on sizes, groups and threads. torch is
    asked, with CPU tensors of the same sizes and strides that hold no memory."""
    if not isinstance(result, torch.Tensor) or not result.is_meta or result.dim() != 4:
        return result
    bound = {**dict(zip(CONVOLUTION_PARAMETERS, args)), **kwargs}
    tensor, weight = bound.get("input"), bound.get("weight")
    if not isinstance(tensor, torch.Tensor) or not isinstance(weight, torch.Tensor) or tensor.dim() != 4:
        return result
    dilation = _pair(bound.get("dilation", 1))
    padding = bound.get("padding", 0)
    if isinstance(padding, str):  # "valid" pads nothing; "same" pads half the dilated kernel
        padding = [0, 0] if padding == "valid" else [d * (k - 1) // 2 for d, k in zip(dilation, weight.shape[2:])]
    try:
        hollow_tensor, hollow_weight = _hollow(tensor), _hollow(weight)
        backend = torch._C._select_conv_backend(
            hollow_tensor,
            hollow_weight,
            None,
            _pair(bound.get("stride", 1)),
            _pair(padding),
            dilation,
            False,
            [0, 0],
            int(bound.get("groups", 1)),
            None,
        )
        layout = torch._C._conv_determine_backend_memory_format(hollow_tensor, hollow_weight, backend)
    except Exception:  # no answer: meta's layout stands
        return result
    if layout == torch.channels_last and not _is_channels_last(result):
        return torch.empty(result.shape, dtype=result.dtype, device=META, memory_format=torch.channels_last)
    return result


CONVOLUTION_PARAMETERS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")


def _hollow(tensor: torch.Tensor) -> torch.Tensor:
    """A CPU tensor of `tensor`'s dtype, sizes and strides over no memory: torch's kernel choices read only
    those."""
    return torch.empty(0, dtype=tensor.dtype).set_(torch.UntypedStorage(0), 0, tuple(tensor.shape), tensor.stride())


SDPA_PARAMETERS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


def _attention_laid_out_as_on_cpu(result, args: tuple, kwargs: dict):
    """scaled_dot_product_attention's meta result in the CPU's layout. The CPU's flash kernel lays its result
    out as empty_like(query) does: a query made by transposing (B, L, H, E), or taken from one (B, L, 3, H, E)
    projection as timm's ViTs do (or a (B * H, L, E) one as SAM's), gives a result whose transpose back is contiguous, so a later reshape is a
    view; meta's result is contiguous, which made that reshape a copy (a layer) on meta alone. The kernel's
    choice is asked of the CPU on tensors of the same sizes and strides over no memory (_hollow)."""
    bound = {**dict(zip(SDPA_PARAMETERS, args)), **kwargs}
    query = bound.get("query")
    if not isinstance(result, torch.Tensor) or not result.is_meta or not isinstance(query, torch.Tensor):
        return result
    if query.is_contiguous() or result.shape != query.shape:
        return result
    grouped = {"enable_gqa": True} if bound.get("enable_gqa") else {}  # a keyword torch 2.5 added; off by default
    try:
        cheap = {name: _hollow(t) for name, t in bound.items() if isinstance(t, torch.Tensor)}
        choice = torch._fused_sdp_choice(
            cheap["query"],
            cheap["key"],
            cheap["value"],
            cheap.get("attn_mask"),
            bound.get("dropout_p", 0.0),
            bound.get("is_causal", False),
            scale=bound.get("scale"),
            **grouped,
        )
    except RuntimeError:  # no answer for these tensors: meta's layout stands
        return result
    if choice != _flash_attention_backend():
        return result
    return torch.empty_like(query)


def _flash_attention_backend() -> int:
    """The number torch._fused_sdp_choice answers for the flash kernel. torch 2.1 has no torch.nn.attention;
    its torch.backends.cuda.SDPBackend numbers the kernels alike (FLASH_ATTENTION is 1 in both)."""
    try:
        from torch.nn.attention import SDPBackend
    except ImportError:
        from torch.backends.cuda import SDPBackend
    return int(SDPBackend.FLASH_ATTENTION)


def _recurrent_result(args: tuple) -> tuple | None:
    """The results of torch.lstm, gru, rnn_tanh or rnn_relu on meta, laid out as torch lays them out: the output
    (the input's shape but its last dimension, directions x the state's size) and the final states (each its
    initial state's shape). torch.nn calls them on a padded batch, (input, hx, params, has_biases, num_layers,
    dropout, train, bidirectional, batch_first), or on a packed one, (data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional); None for any other call, which torch answers."""
    if len(args) != 9:
        return None
    packed = isinstance(args[3], (list, tuple))
    tensor, hx, bidirectional = (args[0], args[2], args[8]) if packed else (args[0], args[1], args[7])
    batch_first = not packed and args[8]
    states = list(hx) if isinstance(hx, (list, tuple)) else [hx]
    tensors = [tensor, *states]
    if not all(isinstance(t, torch.Tensor) and t.is_meta for t in tensors) or tensor.dim() != (2 if packed else 3):
        return None
    size = (2 if bidirectional else 1) * states[0].shape[-1]
    if batch_first:  # computed step-major, (steps, batch, size), and handed back transposed
        steps_first = torch.empty((tensor.shape[1], tensor.shape[0], size), dtype=tensor.dtype, device=META)
        output = steps_first.transpose(0, 1)
    else:
        output = torch.empty((*tensor.shape[:-1], size), dtype=tensor.dtype, device=META)
    return (output, *(torch.empty(state.shape, dtype=state.dtype, device=META) for state in states))


GROUPED_MM_PARAMETERS = ("mat_a", "mat_b", "offs", "bias", "out_dtype")


def _grouped_mm_result(args: tuple, kwargs: dict) -> torch.Tensor | None:
    """torch._grouped_mm's result on meta where the CPU runs it and torch's meta kernel, written for CUDA, refuses
    it (float32 and float16; a Mixtral or Qwen2-MoE decoder in float32 went to real tensors, which for
    Mixtral-8x7B are 47 B weights). The result's shape follows from the operands' alone: a (rows, K) input and
    (experts, K, N) weights give (rows, N), contiguous as the CPU writes it, whatever `offs` holds, that is
    however the router spread the rows over the experts. None for any other call, which torch answers."""
    bound = {**dict(zip(GROUPED_MM_PARAMETERS, args)), **kwargs}
    a, b, offs = bound.get("mat_a"), bound.get("mat_b"), bound.get("offs")
    if not all(_meta(t) for t in (a, b, offs)) or bound.get("bias") is not None:
        return None
    experts = a.dim() == 2 and b.dim() == 3 and a.shape[1] == b.shape[1] and offs.shape == (b.shape[0],)
    if not experts or a.dtype not in (torch.float32, torch.float16) or b.dtype != a.dtype:
        return None  # other layouts (a weight gradient's 2-D x 2-D) and dtypes: torch answers, or says what is wrong
    if bound.get("out_dtype") not in (None, a.dtype):
        return None
    return torch.empty((a.shape[0], b.shape[2]), dtype=a.dtype, device=META)


def _contiguous_meta(tensor) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.is_meta and tensor.is_contiguous()


def _elementwise_result(first, second) -> torch.Tensor | None:
    """The meta result of an element-wise op of two contiguous tensors of one dtype (broadcast against each
    other: contiguous too), or of a float tensor and a Python number (its own shape and dtype); None for any
    other case, which torch's type promotion and layout rules decide."""
    if not _contiguous_meta(first):
        return None
    if isinstance(second, (int, float)) and not isinstance(second, bool):
        return _empty_like(first) if first.dtype.is_floating_point else None
    if not _contiguous_meta(second) or first.dtype != second.dtype:
        return None
    try:
        shape = torch.broadcast_shapes(first.shape, second.shape)
    except RuntimeError:
        return None  # torch says which sizes do not match
    return torch.empty(shape, dtype=first.dtype, device=META)


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _adaptive_pool_result(tensor: torch.Tensor, output_size) -> torch.Tensor:
    """F.adaptive_avg_pool2d's result on meta (torch's own costs about 0.4 ms): the last two dimensions become
    `output_size`, a None in it keeping the input's."""
    sizes = [output_size, output_size] if isinstance(output_size, int) or output_size is None else list(output_size)
    spatial = [given if given is not None else kept for given, kept in zip(sizes, tensor.shape[-2:])]
    return torch.empty((*tensor.shape[:-2], *spatial), dtype=tensor.dtype, device=META)


def _pool_result(
    tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
) -> torch.Tensor | None:
    """F.avg_pool2d's result on meta for an N, C, H, W input, without ceil mode (None otherwise: torch decides)."""
    if ceil_mode:
        return None
    kernel = _pair(kernel_size)
    strides = kernel if stride is None or (not isinstance(stride, int) and not stride) else _pair(stride)
    pads = _pair(padding)
    spatial = [(size + 2 * pad - k) // step + 1 for size, k, step, pad in zip(tensor.shape[2:], kernel, strides, pads)]
    if min(spatial) < 1 or any(2 * pad > k for pad, k in zip(pads, kernel)):
        return None  # torch says what is wrong
    return torch.empty((*tensor.shape[:2], *spatial), dtype=tensor.dtype, device=META)


def _as_dtype(value: bool | int | float, dtype: torch.dtype) -> bool | int | float | None:
    if dtype == torch.bool:
        return bool(value)
    if dtype.is_floating_point:
        return float(value)
    return None if dtype.is_complex else int(value)
