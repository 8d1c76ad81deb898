"""Decompose a network into the layers that actually execute, in order.

torch.fx is tried first: it sees every leaf module and every functional op.
Models that do not trace (data-dependent control flow) fall back to forward
hooks on leaf modules plus a TorchFunctionMode that catches the functional ops
run between them. Either way each layer keeps a recipe (`LayerCall`) to run it
again in isolation on synthetic inputs of the recorded shapes.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import itertools
import json
import math
import operator
import textwrap
import threading
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from hwprof.errors import HwprofError, HwprofWarning, warn
from hwprof.models import FX_TRACING, recall
from hwprof.models.inputs import ModelInputs, check_module_weights, mask_with_share, one_run_per_row
from hwprof.models.recall import storage_id, tensors_in

# torch.fx's first trace builds torch's table of overridable functions, where torch 2.1 warns of its own deprecated
# attributes (torch.has_cuda, ...): built here, quietly, those warnings stay out of every command's output
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    torch.overrides.get_overridable_functions()

# Ops that move no data and do no arithmetic are left out, except these, which
# users expect to see as layers even when they are views.
ALWAYS_RECORDED = {"flatten"}
# Calls that never do work worth a layer, whatever they return.
NEVER_RECORDED = {"size", "dim", "numel", "get", "getattr", "detach", "requiresgrad"}
# Calls that copy their input, or return it (or a view of it) where nothing needs copying: .contiguous() of a
# permuted tensor, .to(torch.float64), x[mask]. Recorded where their result is new memory, with no MACs.
COPIES = {"contiguous", "to", "type", "float", "half", "clone", "getitem"}
IN_PLACE_OPERATORS = {"iadd", "isub", "imul", "itruediv", "imatmul"}
# Writes of elements at indexed places of a destination (a KV cache's slot): their work is the elements written, not
# the destination's. Placed ones do no arithmetic, as copies; accumulated ones one add, or reduction, per element.
INDEXED_PLACES = {"indexcopy", "indexput", "scatter"}
INDEXED_ACCUMULATES = {"indexadd", "indexreduce", "scatteradd", "scatterreduce"}
INDEXED_WRITES = INDEXED_PLACES | INDEXED_ACCUMULATES
# F.relu(x, True), F.leaky_relu(x, 0.01, True): the in-place flag is their last positional argument.
INPLACE_LAST = {F.relu, F.relu6, F.hardtanh, F.leaky_relu, F.elu, F.celu, F.selu, F.hardswish, F.hardsigmoid, F.silu}
INPLACE_LAST |= {F.mish}
# Dropouts take an in-place flag too, yet write nothing where they drop nothing (in eval mode, or at p=0).
DROPOUTS = {F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout}
OP_ALIASES = {
    "truediv": "div",
    "floordiv": "div",
    "mm": "matmul",
    "bmm": "matmul",
    "concat": "cat",
    "concatenate": "cat",
    "iadd": "add",
    "radd": "add",
    "imul": "mul",
    "rmul": "mul",
    "isub": "sub",
    "rsub": "sub",
    "itruediv": "div",
    "rtruediv": "div",
    "rmatmul": "matmul",
}
# Ops whose tensors at these positions a network keeps within the values the op is defined on, [low, high]:
# non-negative (a magnitude, a power spectrum, a variance plus eps, probabilities) for sqrt and log, at least 1 for
# acosh, within [-1, 1] for asin, acos and atanh (a cosine, a tanh). Drawn from randn, a third to most of their
# elements give NaN, 6-28x the network's time for sqrt and log, 0.5-6x for the others. pow and float_power only where
# their exponent may be fractional (POWERS).
NONNEGATIVE = (0.0, math.inf)
DOMAIN_INPUTS = {name: ((0,), NONNEGATIVE) for name in ("sqrt", "rsqrt", "log", "log2", "log10", "log1p")}
DOMAIN_INPUTS["xlogy"] = ((1,), NONNEGATIVE)
DOMAIN_INPUTS |= {name: ((0,), (1.0, math.inf)) for name in ("acosh", "arccosh")}
DOMAIN_INPUTS |= {name: ((0,), (-1.0, 1.0)) for name in ("asin", "arcsin", "acos", "arccos", "atanh", "arctanh")}
POWERS = {"pow", "ipow", "floatpower"}


@dataclass(frozen=True)
class TensorSpec:
    """A tensor argument, remembered by shape and dtype only."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    channels_last: bool = False  # a 4-D tensor laid out NHWC, as --channels-last runs it
    value_range: tuple[int, int] | None = None  # integer tensors: [low, high) of the values seen
    same_as: int | None = None  # the earlier tensor argument (in recipe order) that this one is
    offsets_total: int | None = None  # a grouped matmul's offs: cumulative group sizes ending at this row count
    quantization: tuple[float, int] | None = None  # a quantized tensor's scale and zero point
    true_share: float | None = None  # masks (bool, or integers 0 and 1): the share of True seen (None: all True)
    row_runs: bool = False  # a mask whose rows (along the last dimension) each held their True in one run
    domain: tuple[float, float] | None = None  # a float input of an op defined on [low, high] only (sqrt, asin)
    strides: tuple[int, ...] | None = None  # a tensor laid out otherwise than in order or NHWC (transposed, expanded)

    def elements(self) -> int:
        """The elements of the memory it is made over: a transposed tensor's, or fewer for an expanded one."""
        if self.strides is None or not all(self.shape):
            return math.prod(self.shape)
        return 1 + sum((size - 1) * stride for size, stride in zip(self.shape, self.strides))

    def make(self, device: torch.device | str) -> torch.Tensor:
        if self.strides is not None:  # drawn in order over the memory the strides span, then viewed through them
            span, width = self.elements(), self.shape[-1]
            # in rows of the tensor's width where its rows lie in order in memory: an expanded mask keeps its runs
            rows = (span // width, width) if span and self.strides[-1] == 1 and span % width == 0 else (span,)
            tensor = replace(self, shape=rows, strides=None).make(device).as_strided(self.shape, self.strides)
            expanded = any(stride == 0 and size > 1 for size, stride in zip(self.shape, self.strides))
            if self.true_share is not None and not expanded:  # a mask's True where an in-order one has them
                tensor.copy_(replace(self, strides=None).make(device))
            return tensor
        if self.offsets_total is not None:
            # each row to a group drawn at random, as a router sends each token to random experts
            groups = torch.randint(0, self.shape[0], (self.offsets_total,))
            sizes = torch.bincount(groups, minlength=self.shape[0])
            return torch.cumsum(sizes, 0).to(device=device, dtype=self.dtype)
        if self.dtype.is_floating_point or self.dtype.is_complex or self.quantization is not None:
            if self.quantization is None:
                tensor = torch.randn(self.shape, dtype=self.dtype, device=device)
                tensor = tensor if self.domain is None else _within(tensor, *self.domain)
            else:  # an int8 network's activations: torch draws no random quantized tensor, but quantizes a float one
                floats = torch.randn(self.shape, device=device)
                tensor = torch.quantize_per_tensor(floats, *self.quantization, self.dtype)
            return tensor.contiguous(memory_format=torch.channels_last) if self.channels_last else tensor
        if self.dtype == torch.bool or self.true_share is not None:
            # as many True (or ones, an MoE's one-hot expert mask) as the network's tensor held, at places drawn alike
            # every time, in one run per row where the network's were (a causal mask): torch.nonzero or a masked
            # select costs by its True, torch.where by their structure, and an attention mask of all False gives NaN
            share = 1.0 if self.true_share is None else self.true_share
            return mask_with_share(self.shape, share, self.dtype, device, self.row_runs)
        if self.value_range is not None:
            # values within those the network used: token ids spread over the vocabulary as they were, so an
            # embedding timed alone gathers rows from all over its table, not one cached row
            return torch.randint(*self.value_range, self.shape, dtype=self.dtype, device=device)
        # zeros are valid indices for embeddings and gathers
        return torch.zeros(self.shape, dtype=self.dtype, device=device)


@dataclass
class LayerCall:
    """How to run one layer alone: a module or function and its argument recipe."""

    target: Callable[..., Any]
    args: tuple
    kwargs: dict

    def bind(self, device: torch.device | str) -> Callable[[], Any]:
        """Materialise synthetic inputs once and return a zero-argument runner. A tensor the network passed
        twice (attention's query, key and value in self-attention) is passed twice again: torch takes
        another path when arguments are one tensor."""
        return self.bind_copies(device, [self.target])[0]

    def bind_copies(self, device: torch.device | str, targets: list) -> list[Callable[[], Any]]:
        """A runner per target (the layer's module and copies of it), each on inputs of its own: the first drawn
        as the recipe says, the others copied from them. Cold timing needs other memory, not other values, and a
        copy costs a fraction of a draw (drawing took 1 s of a resnet18 run's 1.7 s of setting up copies). A
        tensor laid out with strides of its own (transposed, expanded) is made anew: a copy would be dense."""
        runners, first = [], None
        for target in targets:
            made: list[torch.Tensor] = []
            args = _materialise(self.args, device, made, first)
            kwargs = _materialise(self.kwargs, device, made, first)
            runners.append(_runner(target, args, kwargs))
            first = made if first is None else first
        return runners

    def memory_bytes(self) -> int:
        """What one copy of this call holds: its module's parameters and buffers (an embedding's whole table, where
        its weight_bytes count the rows it reads) and the tensors its recipe makes."""
        held = 0
        if isinstance(self.target, nn.Module):
            tensors = itertools.chain(self.target.parameters(), self.target.buffers())
            held += sum(t.numel() * t.element_size() for t in tensors)
        specs = [spec for spec in tensors_in((self.args, self.kwargs), TensorSpec) if spec.same_as is None]
        return held + sum(spec.elements() * torch.empty(0, dtype=spec.dtype).element_size() for spec in specs)


@dataclass
class Layer:
    index: int
    name: str
    op: str
    config: dict
    flops: int  # multiply-accumulates
    params: int
    input_bytes: int
    output_bytes: int
    weight_bytes: int
    call: LayerCall | None = field(default=None, repr=False, compare=False)

    def config_json(self) -> str:
        return json.dumps(self.config, sort_keys=True, separators=(",", ":"))

    def facts(self) -> tuple:
        """All a trace says of this layer, its recipe aside: two traces of a network agree where these do."""
        return (
            self.name,
            self.op,
            self.config_json(),
            self.flops,
            self.params,
            self.input_bytes,
            self.output_bytes,
            self.weight_bytes,
        )

    def config_id(self, device: str) -> str:
        """Layers with the same id are the same work: measured once, referenced by each instance."""
        digest = hashlib.sha1(f"{self.op}|{self.config_json()}|{device}".encode()).hexdigest()
        return digest[:16]


def run_and_extract(
    module: nn.Module,
    input_shape: tuple[int, ...] | Any,
    batch_size: int,
    device: torch.device | str = "cpu",
    label: str = "",
    *,
    seq_len: int | None = None,
    dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> tuple[list[Layer], str]:
    """extract_layers, with a model that fails to run (a wrong input shape, a bug in its forward) reported
    in one sentence that names it and the input it was given, never as a traceback.

    `input_shape` is one sample's shape or a ModelInputs (several, integer or keyword inputs);
    `dtype` is the float dtype of the inputs (the module is expected to hold its weights in it)."""
    label = label or type(module).__name__
    refuse_torchscript(module, label)
    if dtype in (None, torch.float32):  # converted by the caller where the run is in another dtype
        check_module_weights(module, "float32", label, "measure")
    if not hasattr(input_shape, "make"):
        input_shape = ModelInputs.from_shape(input_shape)
    args, kwargs = input_shape.make(batch_size, seq_len, device, dtype, channels_last)
    try:
        return extract_layers_from_example(module, args, kwargs)
    except HwprofError:
        raise
    except (Exception, SystemExit) as error:  # a forward's sys.exit too: hwprof says which model stopped, on what
        raise HwprofError(run_failure(label, input_shape.describe(batch_size, seq_len, dtype), error)) from None


def refuse_torchscript(module: nn.Module, label: str) -> None:
    """A torch.jit.script or torch.jit.trace module runs its graph inside TorchScript, where neither forward
    hooks nor torch functions reach hwprof: its layers, and with them its MACs, cannot be found."""
    if isinstance(module, torch.jit.ScriptModule):
        raise HwprofError(
            f"{label} is a TorchScript module (torch.jit.script or torch.jit.trace), which hwprof cannot split "
            "into layers or count the MACs of: pass the eager nn.Module it was made from"
        )


def run_failure(label: str, described_inputs: str, error: BaseException) -> str:
    """One sentence for a model that raised: what it was given and what torch said (which often names the
    shape the model wanted); or the exit a forward asked for (sys.exit), which hwprof does not take."""
    if isinstance(error, SystemExit):
        return f"running {label} on input {described_inputs} called sys.exit({error.code!r}), which stops the run"
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"running {label} on input {described_inputs} failed: {type(error).__name__}: {first_line}"


def extract_layers(
    module: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1, device: torch.device | str = "cpu"
) -> tuple[list[Layer], str]:
    """Run one forward pass and return (layers in execution order, "fx" or "hooks")."""
    example = torch.randn((batch_size, *input_shape), device=device)
    return extract_layers_from_example(module, (example,), {})


def extract_layers_from_example(
    module: nn.Module, args: tuple, kwargs: dict, *, recipes: bool = True
) -> tuple[list[Layer], str]:
    """Layers of one forward pass on these inputs: torch.fx for positional inputs where the model traces,
    forward hooks otherwise (keyword inputs, Python control flow, most Hugging Face models). Without
    `recipes` the layers carry no LayerCall: prediction never runs a layer alone."""
    while isinstance(module, PARALLEL_WRAPPERS):
        module = module.module
    to_eval(module)
    if not kwargs and not _is_one_layer(module):
        state = _ModuleState(module)
        try:  # the graph alone: compiling it into a GraphModule's Python code is not needed to interpret it
            with FX_TRACING:
                graph = _Tracer().trace(module, concrete_args=_unsupplied_defaults(module, len(args)))
        except Exception:  # untraceable Python control flow: hooks see what actually runs
            graph = None
        finally:
            stored = state.restore()
        if stored:  # a forward storing into the module (a step counter, an EMA buffer): the graph drops that
            graph = None
        if graph is not None:
            recorder = _FxRecorder(module, graph, recipes, state.constants)
            try:
                with torch.no_grad():
                    recorder.run(*args)
                return recorder.layers, "fx"
            except Exception:  # a graph that traced but does not run these inputs: hooks run the model itself
                pass
    return _extract_with_hooks(module, args, kwargs, recipes), "hooks"


def to_eval(module: nn.Module) -> nn.Module:
    """The module in eval mode, as hwprof measures and predicts every network. Norms and dropouts its user left in
    training mode in an eval network (MC dropout, test-time batch statistics) compute otherwise in training, and
    are named in a warning: run in training mode they would fail at batch 1 (a BatchNorm1d) and update the user's
    running statistics at every timed call."""
    named = [
        f"{name or '.'} ({type(part).__name__})"
        for name, part in module.named_modules()
        if part.training and isinstance(part, TRAINING_CHANGES_WORK) and not module.training
    ]
    if named:
        warn(
            f"the norm and dropout modules {', '.join(named)} were left in training mode, but hwprof measures and "
            "predicts them in eval mode (running statistics, no dropout), as it does the whole network"
        )
    return module.eval()


class _ModuleState:
    """What an fx trace may write into the modules it traces: `self.count += 1` or `self.ema = ...` in a forward
    stores a Proxy into the module's buffers or attributes, and a cache filled in forward (timm's
    attention_bias_cache) holds one. Taken before the trace and put back after it, the user's module is left as
    given."""

    def __init__(self, module: nn.Module) -> None:
        self.saved = [(part, dict(vars(part)), _container_copies(vars(part))) for part in module.modules()]

    def restore(self) -> bool:
        """Put every module's attributes back; whether the trace had stored a traced value (a Proxy) in a buffer, a
        parameter or an attribute, a write the graph leaves out: not a flag a forward sets, nor a cache's entries.
        The tensor constants fx added to the traced module are kept in `constants`, for the graph to read."""
        stored = False
        root = vars(self.saved[0][0])
        self.constants = {
            name: value
            for name, value in root.items()
            if name not in self.saved[0][1] and isinstance(value, torch.Tensor) and not isinstance(value, fx.Proxy)
        }
        for part, attributes, containers in self.saved:
            current = vars(part)
            written = [value for name, value in current.items() if value is not attributes.get(name)]
            for name in ("_buffers", "_parameters"):
                written += [value for key, value in attributes[name].items() if value is not containers[name].get(key)]
            stored |= any(isinstance(value, fx.Proxy) for value in written)
            for name in [name for name in current if name not in attributes]:
                del current[name]
            current.update(attributes)
            for name, copy in containers.items():
                container = attributes[name]
                if _changed(container, copy):
                    container.clear()
                    if isinstance(container, dict):
                        container.update(copy)
                    else:
                        container.extend(copy)
        return stored


def _container_copies(attributes: dict) -> dict[str, dict | list]:
    """Shallow copies of the dicts and lists among a module's attributes (its _buffers and _parameters too)."""
    return {
        name: dict(value) if isinstance(value, dict) else list(value)
        for name, value in attributes.items()
        if isinstance(value, (dict, list))
    }


def _changed(container: dict | list, copy: dict | list) -> bool:
    """Whether a container's entries are no longer the very objects it held."""
    if isinstance(container, dict):
        return container.keys() != copy.keys() or any(container[key] is not copy[key] for key in copy)
    return len(container) != len(copy) or any(a is not b for a, b in zip(container, copy))


def _unsupplied_defaults(module: nn.Module, supplied: int) -> dict[str, Any] | None:
    """forward's parameters past the inputs given, at their defaults (attention_mask=None): traced as
    placeholders, `if attention_mask is not None` would take the branch the run does not."""
    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    defaults = {
        p.name: p.default
        for p in parameters[supplied:]
        if p.kind in (*positional, inspect.Parameter.KEYWORD_ONLY) and p.default is not inspect.Parameter.empty
    }
    return defaults or None


# --- recording ------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, recipes: bool = True) -> None:
        self.layers: list[Layer] = []
        self.recipes = recipes

    def record_module(
        self, name: str, module: nn.Module, args: tuple, kwargs: dict, output: Any, flops: int | None = None
    ) -> None:
        """`flops`: the MACs of the functions its forward called, where they were counted (_counts_its_functions)."""
        with torch._C.DisableTorchFunction():  # the recorder's own tensor queries are not the network's ops
            self._record_module(name, module, args, kwargs, output, flops)

    def record_function(
        self, name: str, func: Callable, args: tuple, kwargs: dict, output: Any, flops: int | None = None
    ) -> bool:
        """Record a functional op where it does work; whether it did. `flops`: the MACs of the torch functions a
        function fx kept whole ran (_FxRecorder.call_function), where they were counted."""
        with torch._C.DisableTorchFunction():
            return self._record_function(name, func, args, kwargs, output, flops)

    def _record_module(
        self, name: str, module: nn.Module, args: tuple, kwargs: dict, output: Any, flops: int | None = None
    ) -> None:
        op = _module_op(module)
        config = _module_config(module)
        changed = _changed_arguments(module, args, kwargs)
        if changed:
            config["kwargs"] = changed
        masks = _attention_masks(module, args, kwargs)
        if masks:
            config["masks"] = masks
        parameters, buffers = _module_tensors(module)
        weights = parameters + buffers
        self._append(
            name,
            op,
            config,
            module,
            args,
            kwargs,
            output,
            inputs=[t for t in tensors_in((args, kwargs)) if not _is_weight(op, t)],
            params=sum(p.numel() for p in parameters),
            weight_bytes=_weight_bytes_read(isinstance(module, EMBEDDINGS), weights, args, kwargs),
            flops=_module_flops(module, args, kwargs, output) if flops is None else flops,
            # a quantized layer computes in its input's dtype, not in that of its float bias
            weight_dtype=None
            if isinstance(module, QUANTIZED)
            else next((t.dtype for t in weights if t.dtype.is_floating_point), None),
        )

    def _record_function(
        self, name: str, func: Callable, args: tuple, kwargs: dict, output: Any, flops: int | None = None
    ) -> bool:
        op = _function_op(func)
        if not _does_work(func, op, args, kwargs, output):
            return False
        doing = _module_doing(func, args, kwargs, output)
        if doing is not None:
            module, module_input, module_output = doing
            self._record_module(name, module, (module_input,), {}, module_output)
            return True
        weights = _function_weights(op, args, kwargs)
        held = {id(t) for t in weights}
        assigned = op == "setitem"  # x[key] = value: x is what it writes
        output = args[0] if assigned else output
        in_place = assigned or _in_place(func, args, kwargs, output)
        write = _indexed_write(op, args, kwargs) if in_place else None
        # F.relu(x, inplace=True) is x.relu_(): one config, told from F.relu(x)'s by "inplace"
        given, named = _without_in_place_flag(func, args, kwargs) if in_place else (args, kwargs)
        config = {"args": _constants(given), "kwargs": _constants(named)}
        if in_place:  # no new memory to write: other work than the same op out of place
            config["inplace"] = True
        if weights and op in CONVOLUTIONS:  # F.conv2d(x, self.weight): no input's shape says its kernel's size
            config["weight_shapes"] = [list(t.shape) for t in weights]
        self._append(
            name,
            op,
            config,
            func,
            args,
            kwargs,
            output,
            params=sum(t.numel() for t in weights),
            weight_bytes=_weight_bytes_read(op in ("embedding", "embeddingbag"), weights, args, kwargs),
            flops=_function_flops(op, args, kwargs, output) if flops is None else flops,
            inputs=[t for t in tensors_in((args, kwargs)) if id(t) not in held],
            weight_dtype=next((t.dtype for t in weights if t.dtype.is_floating_point), None),
            moved=write.bytes_moved(args[0]) if write is not None else None,
        )
        return True

    def _append(
        self,
        name,
        op,
        config,
        target,
        args,
        kwargs,
        output,
        *,
        inputs,
        params,
        weight_bytes,
        flops,
        weight_dtype=None,
        moved=None,
    ):
        """`inputs`: the tensors among the arguments that are not weights. `moved`: (bytes read, bytes written)
        where the inputs' and outputs' sizes overstate them (a write at a few places of a large tensor)."""
        outputs = tensors_in(output)
        config = dict(config)
        config["input_shapes"] = [list(t.shape) for t in inputs]
        config["output_shape"] = list(outputs[0].shape) if outputs else []
        config.update(_precision_config(inputs, weight_dtype))
        config.update(_layout_config(inputs))
        repeated = len(inputs) - len({id(t) for t in inputs})
        if repeated:  # one tensor passed as several inputs: less to read, and sometimes another kernel
            config["repeated_inputs"] = repeated
        self.layers.append(
            Layer(
                index=len(self.layers),
                name=name,
                op=op,
                config=config,
                flops=int(flops),
                params=int(params),
                input_bytes=moved[0] if moved else sum(t.numel() * t.element_size() for t in inputs),
                output_bytes=moved[1] if moved else sum(t.numel() * t.element_size() for t in outputs),
                weight_bytes=int(weight_bytes),
                call=self._call(op, target, args, kwargs) if self.recipes else None,
            )
        )

    @staticmethod
    def _call(op: str, target, args: tuple, kwargs: dict) -> LayerCall:
        seen: dict[int, int] = {}
        call = LayerCall(target, _specs(args, seen), _specs(kwargs, seen))
        if op in GROUPED_MM:
            _group_offsets(call)
        _draw_in_domain(op, call)
        return call


class _FxRecorder(fx.Interpreter, _Recorder):
    def __init__(self, module: nn.Module, graph: fx.Graph, recipes: bool, constants: dict | None = None) -> None:
        # the trace's tensor constants (`torch.ones(4)` in a forward), which fx kept as attributes of the module it
        # traced and _ModuleState took off the user's module again
        self.constants = constants or {}
        if "graph" in inspect.signature(fx.Interpreter.__init__).parameters:
            fx.Interpreter.__init__(self, module, garbage_collect_values=recipes, graph=graph)
        else:  # torch before 2.3 (JetPack 5/6's) interprets only a GraphModule's own graph: its code is compiled
            for name, value in self.constants.items():  # a GraphModule copies what its graph reads from the module
                setattr(module, name, value)
            try:
                graph_module = fx.GraphModule(module, graph)
            finally:
                for name in self.constants:
                    delattr(module, name)
            fx.Interpreter.__init__(self, graph_module, garbage_collect_values=recipes)
            self.graph = graph
        _Recorder.__init__(self, recipes)
        self._signatures: dict[str, int | None] = {}

    def fetch_attr(self, target: str) -> Any:
        return self.constants[target] if target in self.constants else super().fetch_attr(target)

    def run_node(self, node: fx.Node) -> Any:
        self.node_name = node.name  # what a functional op's layer is called
        return super().run_node(node)

    def run(self, *args) -> Any:
        if self.recipes:
            return super().run(*args)
        return self._run_recalling(args)

    def _run_recalling(self, args: tuple) -> Any:
        """fx's interpreter loop, where a block met before at the same key is recalled instead of run
        (hwprof.models.recall), and the blocks run here are remembered."""
        nodes = list(self.graph.nodes)
        planned = recall.plan(nodes)
        self.env, self.args_iter = {}, iter(args)
        layer_nodes: list[int] = []  # the node each layer came from
        open_blocks: list[tuple[recall.Block, tuple, int]] = []  # (block, key, layers before it), innermost last
        index = 0
        while index < len(nodes):
            for block in planned.get(index, ()):
                with torch._C.DisableTorchFunction():
                    key = recall.block_key(block, self.env, self._signature, self.fetch_attr)
                if key is None:
                    continue
                found = recall.recall_block(key)
                if found is None:
                    open_blocks.append((block, key, len(self.layers)))
                    continue
                self._replay(nodes, block, found, layer_nodes)
                index = block.end
                break
            else:
                node = nodes[index]
                self.node_name = node.name
                arguments, keywords = self.fetch_args_kwargs_from_env(node)
                self.env[node] = getattr(self, node.op)(node.target, arguments, keywords)
                layer_nodes.extend([index] * (len(self.layers) - len(layer_nodes)))
                if node.op == "output":
                    return self.env[node]
            while open_blocks and open_blocks[-1][0].end == index:
                self._remember(nodes, *open_blocks.pop(), layer_nodes)
            index += 1
        raise RuntimeError("the traced graph has no output node")

    def _replay(self, nodes: list[fx.Node], block: recall.Block, found: recall.Remembered, layer_nodes: list) -> None:
        for layer, offset, by_module in found.layers:
            node = nodes[block.start + offset]
            name = node.target if by_module else node.name
            self.layers.append(replace(layer, index=len(self.layers), name=name, config=dict(layer.config)))
            layer_nodes.append(block.start + offset)
        with torch._C.DisableTorchFunction():
            for offset, spec in found.outputs:
                self.env[nodes[block.start + offset]] = recall.make_value(spec)

    def _remember(self, nodes: list[fx.Node], block: recall.Block, key: tuple, before: int, layer_nodes) -> None:
        layers = tuple(
            (layer, layer_nodes[at] - block.start, nodes[layer_nodes[at]].op == "call_module")
            for at, layer in enumerate(self.layers[before:], start=before)
        )
        inputs = [self.env[node] for node in block.inputs]
        outputs = [(offset, self.env[nodes[block.start + offset]]) for offset in block.outputs]
        with torch._C.DisableTorchFunction():
            recall.remember_block(key, layers, inputs, outputs)

    def call_module(self, target, args, kwargs) -> Any:
        module = self.fetch_attr(target)
        key = None
        if not self.recipes and not module._modules:
            with torch._C.DisableTorchFunction():
                key = recall.leaf_key(self._signature(target), args, kwargs)
            found = recall.recall_leaf(key) if key is not None else None
            if found is not None:
                return self._recall_leaf(target, *found)
        result = _laid_out_as_eager(module, args, kwargs, module(*args, **kwargs))
        self.record_module(target, module, args, kwargs, result)
        if key is not None:
            with torch._C.DisableTorchFunction():
                recall.remember_leaf(key, self.layers[-1], result, [args, kwargs])
        return result

    def _signature(self, target: str) -> int | None:
        """A called module's signature (hwprof.models.recall), once per trace."""
        if target not in self._signatures:
            self._signatures[target] = recall.signature(self.fetch_attr(target))
        return self._signatures[target]

    def _recall_leaf(self, name: str, layer: Layer, spec: tuple) -> Any:
        """A torch.nn module met before at these shapes: its layer again, and an empty result like its own."""
        self.layers.append(replace(layer, index=len(self.layers), name=name, config=dict(layer.config)))
        with torch._C.DisableTorchFunction():
            return recall.make_value(spec)

    def call_function(self, target, args, kwargs) -> Any:
        if not _kept_whole(target):
            result = target(*args, **kwargs)
            self.record_function(self.node_name, target, args, kwargs, result)
            return result
        with _MacCounter() as counter:
            result = target(*args, **kwargs)
        self.record_function(self.node_name, target, args, kwargs, result, counter.macs)
        return result

    def call_method(self, target, args, kwargs) -> Any:
        result = super().call_method(target, args, kwargs)
        method = getattr(torch.Tensor, target, None)
        if method is not None:
            self.record_function(self.node_name, method, args, kwargs, result)
        return result


TORCH_NN = ("torch.nn", "torch.ao.nn")


# Wrappers that run their .module on each device's share of the batch: on one device, that module's layers.
PARALLEL_WRAPPERS = (nn.DataParallel, nn.parallel.DistributedDataParallel)
# Where torch.nn.utils.parametrize makes the class of a parametrized module (ParametrizedConv2d, for weight_norm or
# spectral_norm): a subclass of the module's class, computing as that class with its weight computed on access.
PARAMETRIZED = "torch.nn.utils.parametrize"
# Methods a subclass may define without changing what a torch.nn module's forward computes.
BUILDING_METHODS = {"__init__", "reset_parameters", "extra_repr", "__repr__", "__setstate__"}


def torch_nn_class(module: nn.Module) -> type | None:
    """The torch.nn class whose work a module does: its own class, or the torch.nn class a subclass computes as
    (torchvision's Conv3DSimple, `class MyConv(nn.Conv2d): pass`: overriding none of its methods but how it is
    built), recorded as that class with its op and hyper-parameters. None for a module computing otherwise, and for
    a DataParallel or DistributedDataParallel, whose layers are its module's."""
    if isinstance(module, PARALLEL_WRAPPERS):
        return None
    mro = [kind for kind in type(module).__mro__ if kind.__module__ != PARAMETRIZED]
    for at, kind in enumerate(mro):
        if kind.__module__.startswith(TORCH_NN):
            overridden = {name for own in mro[:at] for name, value in vars(own).items() if callable(value)}
            return None if any(hasattr(kind, name) for name in overridden - BUILDING_METHODS) else kind
    return None


def _is_leaf(module: nn.Module) -> bool:
    """The rule torch.fx uses (torch.nn's own modules are leaves, containers are not), extended to subclasses
    that keep a torch.nn module's forward, except that torch.nn's blocks built of other modules are not leaves
    either (see _is_composite)."""
    if isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) or _is_composite(module):
        return False
    return torch_nn_class(module) is not None or not list(module.children())


def _is_composite(module: nn.Module) -> bool:
    """A torch.nn block that is its children's calls (TransformerEncoderLayer, TransformerEncoder, Transformer):
    recorded as one layer it would have no MACs formula, so its parts are recorded, as a user's block's are.
    MultiheadAttention's child (out_proj) is a weight holder its forward never calls: it stays one layer, as does
    a parametrized layer, whose child (parametrizations) computes its weights."""
    kind = torch_nn_class(module)
    return (
        kind is not None
        and kind.__module__.startswith("torch.nn.modules.")
        and any(name != "parametrizations" for name, _ in module.named_children())
        and not isinstance(module, nn.MultiheadAttention)
    )


class _Tracer(fx.Tracer):
    """fx's tracer with hwprof's leaves: torch.nn's composite blocks are traced into. Buffers are traced as
    the parameters are: fx's default folds an op on buffers alone (x @ (b @ b)) into a constant at trace
    time, and its work would be missing from the layers.

    While it traces, fx routes every nn.Module call and submodule or parameter lookup in the process through
    the tracer: another thread's forward pass (a measurement, the caller's own model) is passed straight to
    the module, as if nothing traced, where fx's own tracer would fail it (a module not in the traced network
    "is not installed as a submodule") or record it into this graph."""

    proxy_buffer_attributes = True

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _InPlaceProxy(node, self)

    def trace(self, root, concrete_args=None) -> fx.Graph:
        self.tracing_thread = threading.get_ident()
        return super().trace(root, concrete_args)

    def _elsewhere(self) -> bool:
        """Whether this call comes from a thread other than the one tracing."""
        return threading.get_ident() != self.tracing_thread

    def call_module(self, m: nn.Module, forward: Callable, args: tuple, kwargs: dict) -> Any:
        if self._elsewhere():
            return forward(*args, **kwargs)
        if isinstance(m, PARALLEL_WRAPPERS):  # its module, not the scattering to devices around it
            return m.module(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
        if self._elsewhere():
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def is_leaf_module(self, module: nn.Module, module_qualified_name: str) -> bool:
        """fx's leaves (torch.nn's own modules but Sequential), with subclasses that keep a torch.nn module's
        forward: fx would trace into those, and a convolution would be a bare F.conv2d without its kernel."""
        if torch_nn_class(module) is None or isinstance(module, nn.Sequential):
            return False
        return not _is_composite(module)


class _InPlaceProxy(fx.Proxy):
    """fx's Proxy has no in-place operators, so Python traced `out += identity` as `out = out + identity`: a
    ResNet's in-place adds were recorded, and timed, as new tensors. Here they stay operator.iadd and its kin."""

    def __iadd__(self, other):
        return self.tracer.create_proxy("call_function", operator.iadd, (self, other), {})

    def __isub__(self, other):
        return self.tracer.create_proxy("call_function", operator.isub, (self, other), {})

    def __imul__(self, other):
        return self.tracer.create_proxy("call_function", operator.imul, (self, other), {})

    def __itruediv__(self, other):
        return self.tracer.create_proxy("call_function", operator.itruediv, (self, other), {})


def _kept_whole(target: Callable) -> bool:
    """Whether an fx call is a Python function torch.fx.wrap kept whole (torchvision's shifted_window_attention,
    a user's helper) rather than one torch op: its work is the torch functions it runs, which the graph hides."""
    module = getattr(target, "__module__", None) or ""
    return inspect.isfunction(target) and module.partition(".")[0] != "torch"


class _MacCounter(TorchFunctionMode):
    """Adds up the MACs of the torch functions run under it: the outermost calls only, as the functions those
    call are part of their work."""

    def __init__(self) -> None:
        super().__init__()
        self.macs = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        self.macs += _call_macs(func, args, kwargs, result)
        return result


def _call_macs(func: Callable, args: tuple, kwargs: dict, result: Any) -> int:
    """The MACs a torch function's call is recorded with, 0 where it does no work (a view, a size)."""
    op = _function_op(func)
    with torch._C.DisableTorchFunction():
        return _function_flops(op, args, kwargs, result) if _does_work(func, op, args, kwargs, result) else 0


class _FunctionCatcher(TorchFunctionMode):
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.depth = 0  # > 0 while inside a leaf module, whose internals are not layers
        self.counts: dict[str, int] = {}
        self.inner_flops: int | None = None  # the MACs of a leaf's functions, while they are counted
        self.counted: int | None = None  # those MACs, once its forward has returned

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.depth == 0:
            op = _function_op(func)
            number = self.counts.get(op, 0)
            if self.recorder.record_function(f"{op}_{number}", func, args, kwargs, result):
                self.counts[op] = number + 1
        elif self.inner_flops is not None:
            self.inner_flops += _call_macs(func, args, kwargs, result)
        return result


def _extract_with_hooks(module: nn.Module, args: tuple, kwargs: dict, recipes: bool = True) -> list[Layer]:
    recorder = _Recorder(recipes)
    catcher = _FunctionCatcher(recorder)
    handles = []

    def enter(leaf, _args):
        if catcher.depth == 0:
            catcher.inner_flops = 0 if _counts_its_functions(leaf) else None
        catcher.depth += 1

    def stop_counting(leaf, _args, _output):
        """Run before the forward hooks a user registered on the leaf: the work they do is not the leaf's."""
        if catcher.depth == 1:
            catcher.counted, catcher.inner_flops = catcher.inner_flops, None

    def make_exit(name):
        def leave(leaf, args, kwargs, output):
            catcher.depth -= 1
            if catcher.depth == 0:
                output = _laid_out_as_eager(leaf, args, kwargs, output)
                recorder.record_module(name, leaf, args, kwargs, output, catcher.counted)
                return output
            return None

        return leave

    leaves = [
        (name, sub)
        for name, sub in module.named_modules()
        if sub is not module and _is_leaf(sub) and not any(_is_leaf_ancestor(module, name))
    ]
    if _is_one_layer(module):
        leaves = [(_module_op(module), module)]
    for name, sub in leaves:
        handles.append(sub.register_forward_pre_hook(enter))
        handles.append(sub.register_forward_hook(stop_counting, prepend=True))
        handles.append(sub.register_forward_hook(make_exit(name), with_kwargs=True))
    try:
        with torch.no_grad(), catcher:
            module(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return recorder.layers


def _laid_out_as_eager(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
    """A module's result laid out as the network run alone lays it out. nn.MultiheadAttention runs one fused kernel
    where its checks allow it, and returns its result in order; under a torch function mode (the hooks', meta's)
    or on meta tensors it takes its unfused path, whose batch-first result is a transposed view, and the layers
    reading it would be recorded, and timed, reading a layout the network never makes."""
    if not isinstance(module, nn.MultiheadAttention) or not isinstance(output, tuple) or not output:
        return output
    result = output[0]
    if not isinstance(result, torch.Tensor) or result.is_contiguous() or not _attention_fused(module, args, kwargs):
        return output
    with torch._C.DisableTorchFunction():  # hwprof's own copy, not a layer of the network
        return (result.contiguous(), *output[1:])


def _attention_arguments(module: nn.Module, args: tuple, kwargs: dict) -> dict | None:
    """An nn.MultiheadAttention call's arguments by name, defaults included; None for any other module's, or one
    whose forward takes others."""
    if not isinstance(module, nn.MultiheadAttention):
        return None
    try:
        call = inspect.signature(nn.MultiheadAttention.forward).bind(module, *args, **kwargs)
    except TypeError:
        return None
    call.apply_defaults()
    return call.arguments


ATTENTION_MASKS = ("attn_mask", "key_padding_mask")


def _attention_masks(module: nn.Module, args: tuple, kwargs: dict) -> dict[str, str]:
    """An nn.MultiheadAttention call's masks by name, with their dtypes: a padding mask (N, S) masks otherwise than
    an attention mask (L, S) of the same shape, and a bool mask runs the fused kernel where a float one cannot. No
    masks, none recorded: a call without them keeps its config."""
    arguments = _attention_arguments(module, args, kwargs) or {}
    masks = {name: arguments.get(name) for name in ATTENTION_MASKS}
    return {name: str(mask.dtype).removeprefix("torch.") for name, mask in masks.items() if torch.is_tensor(mask)}


def attention_fastpath_enabled() -> bool:
    """Whether torch lets nn.MultiheadAttention take its fused kernel, as torch.backends.mha's switch says; a torch
    without that module (2.1) has no switch and takes the kernel wherever the call allows it."""
    switch = getattr(getattr(torch.backends, "mha", None), "get_fastpath_enabled", None)
    return switch is None or bool(switch())


def _attention_fused(module: nn.MultiheadAttention, args: tuple, kwargs: dict) -> bool:
    """Whether torch runs this nn.MultiheadAttention call as its fused kernel (torch._native_multi_head_attention)
    on a CPU or GPU: its forward's checks, but those a trace's tensors fail where the network's pass (their device,
    the torch function modes watching them, and gradients, off in a trace)."""
    arguments = _attention_arguments(module, args, kwargs)
    if arguments is None:
        return False
    query, key, value = (arguments[name] for name in ("query", "key", "value"))
    masks = [arguments[name] for name in ATTENTION_MASKS]
    if any(isinstance(mask, torch.Tensor) and torch.is_floating_point(mask) for mask in masks):
        return False
    weight, bias = module.in_proj_weight, module.in_proj_bias
    return (
        attention_fastpath_enabled()
        and query.dim() == 3
        and query is key
        and key is value
        and weight is not None
        and bias is not None
        and query.dtype == weight.dtype == bias.dtype
        and not module.training
        and module.num_heads % 2 == 0
        and module.batch_first
        and module.bias_k is None
        and module.bias_v is None
        and not module.add_zero_attn
        and module._qkv_same_embed_dim
        and not torch.is_autocast_enabled()
    )


def _counts_its_functions(leaf: nn.Module) -> bool:
    """Whether a leaf's MACs are those of the torch functions its forward calls: a user's module without children
    (a Gram matrix, a projection x @ W, GPT-OSS's experts), a leaf of the hooks alone, where torch.fx traces into
    it and records its functions. Zoo modules named as a standard op keep that op's count, and a subclass with
    weights of a layer hwprof has a formula for (timm's StdConv2d, an LSTM returning its output alone) the
    formula's."""
    if torch_nn_class(leaf) is not None or _renamed_zoo_module(leaf):
        return False
    return not (isinstance(leaf, FORMULA_MODULES) and _has_weights(leaf))


def _is_one_layer(module: nn.Module) -> bool:
    """Whether a module given as the whole network is one layer: a torch.nn leaf (a convolution, attention, an
    LSTM, or a subclass of a recurrent layer), recorded as the module it is inside a network, with its op and
    MACs, rather than as the functions its forward calls (F.multi_head_attention_forward, torch.lstm)."""
    return isinstance(module, RECURRENT) or (torch_nn_class(module) is not None and _is_leaf(module))


def _is_leaf_ancestor(root: nn.Module, name: str):
    """Yield True for each proper ancestor of `name` that is itself a leaf (e.g. MHA's out_proj)."""
    parts = name.split(".")
    for cut in range(1, len(parts)):
        yield _is_leaf(root.get_submodule(".".join(parts[:cut])))


# --- classification and features ------------------------------------------------------------


def _function_op(func: Callable) -> str:
    name = (getattr(func, "__name__", None) or str(func)).strip("_").rstrip("_")
    name = OP_ALIASES.get(name, name)
    return name.replace("_", "").lower()


def _writes_in_place(func: Callable, args: tuple, kwargs: dict) -> bool:
    """add_, relu_ and __iadd__ by their names, and F.relu(x, inplace=True) by its flag, write into their input:
    they reuse its storage yet do work."""
    name = getattr(func, "__name__", "") or ""
    bare = name.strip("_")
    if (name.endswith("_") and not name.startswith("__")) or bare in IN_PLACE_OPERATORS:
        return True
    return _in_place_flag(func, args, kwargs) and (func not in DROPOUTS or _drops(args, kwargs))


def _in_place_flag(func: Callable, args: tuple, kwargs: dict) -> bool:
    flag = kwargs.get("inplace", args[-1] if func in INPLACE_LAST and len(args) >= 2 else False)
    return flag is True


def _drops(args: tuple, kwargs: dict) -> bool:
    """Whether F.dropout(input, p=0.5, training=True) drops anything: in eval mode or at p=0 it returns its input."""
    p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
    training = kwargs.get("training", args[2] if len(args) > 2 else True)
    return bool(training) and p != 0


def _in_place(func: Callable, args: tuple, kwargs: dict, output: Any) -> bool:
    """Whether a call wrote its result into its first tensor argument (`1 += x` makes a new tensor)."""
    first = next(iter(tensors_in((args, kwargs))), None)
    outputs = tensors_in(output)
    if first is None or not outputs or not _writes_in_place(func, args, kwargs):
        return False
    return storage_id(outputs[0]) == storage_id(first)


def _without_in_place_flag(func: Callable, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if "inplace" in kwargs:
        return args, {key: value for key, value in kwargs.items() if key != "inplace"}
    return (args[:-1], kwargs) if _in_place_flag(func, args, kwargs) else (args, kwargs)


def _does_work(func: Callable, op: str, args: Any, kwargs: Any, output: Any) -> bool:
    if op in NEVER_RECORDED:
        return False
    if op == "setitem":  # x[key] = value writes into x and returns None
        return bool(args) and isinstance(args[0], torch.Tensor)
    outputs = tensors_in(output)
    if not outputs:
        return False
    if op in ALWAYS_RECORDED or _in_place(func, args, kwargs, output):
        return True
    inputs = tensors_in((args, kwargs))
    if op in COPIES and outputs[0].is_meta and inputs and not any(t.is_meta for t in inputs):
        # .to(x.device) onto meta, which stands for the device a real run's tensor is on already: a copy only
        # where it changes the dtype too
        return outputs[0].dtype != inputs[0].dtype
    # a result that shares storage with an input is a view: no arithmetic, no copy. Storages are compared by
    # identity, not address: meta tensors and empty tensors all have address 0.
    input_storages = {storage_id(t) for t in inputs}
    return any(storage_id(t) not in input_storages for t in outputs)


def _module_tensors(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(parameters, buffers) of a module and its children; a module without children is read directly,
    which costs far less than walking it with .parameters()."""
    if module._modules or isinstance(module, QUANTIZED):  # a quantized layer's weights are packed
        return module_weights(module)
    parameters = [p for p in module._parameters.values() if p is not None]
    return parameters, [b for b in module._buffers.values() if b is not None]


def _recurrent_weights(module: nn.Module) -> list[torch.Tensor]:
    """A dynamically quantized recurrent layer's weights and biases, unpacked; float16 ones are unpacked as float32,
    and counted as the float16 they are held in."""
    weight_dtype = _quantized_recurrent_dtype(module)
    weights = [
        w if w.dtype == weight_dtype or w.is_quantized else w.to(weight_dtype) for w in module.get_weight().values()
    ]
    return weights + [b for b in module.get_bias().values() if b is not None]


def _quantized_recurrent_dtype(module: nn.Module) -> torch.dtype:
    return module.dtype if isinstance(module, DYNAMIC_RNN.RNNBase) else module.weight_dtype


def _quantized_weight(module: nn.Module) -> torch.Tensor:
    """A quantized Linear's or convolution's weight in the dtype it is held in: quantize_dynamic's float16 Linear
    unpacks its float16 weight as float32, as a recurrent layer does."""
    weight = module.weight()
    packed = getattr(getattr(module, "_packed_params", None), "dtype", weight.dtype)
    return weight if weight.dtype == packed or weight.is_quantized else weight.to(packed)


def module_weights(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(parameters, buffers) of a module and everything in it, each tensor once, with a quantized Linear's
    packed weights (and a quantized convolution's) unpacked: .parameters() leaves those out, and a quantized network
    would weigh nothing."""
    parameters: dict[int, torch.Tensor] = {}
    buffers: dict[int, torch.Tensor] = {}
    for part in module.modules():  # a quantized Linear's helper module (its packed params) holds no tensor
        if isinstance(part, QUANTIZED_WEIGHTED):
            owned = [t for t in (_quantized_weight(part), part.bias()) if t is not None]
            held: list[torch.Tensor] = []
        elif isinstance(part, QUANTIZED_RECURRENT):
            owned, held = _recurrent_weights(part), []
        else:
            owned = [p for p in part._parameters.values() if p is not None]
            held = [b for b in part._buffers.values() if b is not None]
        parameters.update((id(t), t) for t in owned)
        buffers.update((id(t), t) for t in held)
    return list(parameters.values()), list(buffers.values())


# torch.ao's quantized Linear (quantize_dynamic's too): nn.Linear's work on int8 weights, held packed.
QUANTIZED_LINEAR = (torch.ao.nn.quantized.Linear,)
# torch.ao's quantized convolutions (static quantization's): nn.Conv's work on int8 weights, held packed.
QUANTIZED_CONVOLUTIONS = (torch.ao.nn.quantized.modules.conv._ConvNd,)
QUANTIZED_WEIGHTED = QUANTIZED_LINEAR + QUANTIZED_CONVOLUTIONS
# torch.ao's dynamically quantized LSTM, GRU and RNN (layers and cells): their float forms' work on int8 or float16
# weights, held packed.
DYNAMIC_RNN = torch.ao.nn.quantized.dynamic.modules.rnn
QUANTIZED_RECURRENT = (DYNAMIC_RNN.RNNBase, DYNAMIC_RNN.RNNCellBase)
QUANTIZED = QUANTIZED_WEIGHTED + QUANTIZED_RECURRENT
# Modules that compute otherwise in training mode (batch statistics, dropping), where one is left in it in an eval
# network: the batch norm a call F.batch_norm(..., training=True) is recorded as.
TRAINING_CHANGES_WORK = (nn.modules.batchnorm._NormBase, nn.modules.dropout._DropoutNd)
# Attributes hwprof reads from a user's module (the README's), which say nothing of a layer's work.
HWPROF_ATTRIBUTES = {"input_shape"}


def _module_config(module: nn.Module) -> dict:
    """Hyper-parameters: the module's public plain-valued attributes.

    transformers' Conv1D is named like nn.Linear (in_features, out_features), so the two describe one
    kind of work alike and teach one layer model."""
    if _is_transposed_linear(module):
        features_in, features_out = module.weight.shape
        return {"in_features": features_in, "out_features": features_out, "bias": module.bias is not None}
    config = {}
    read = None if torch_nn_class(module) is not None or "forward" in vars(module) else _attributes_read(type(module))
    for key, value in vars(module).items():
        if key.startswith("_") or key == "training" or key in HWPROF_ATTRIBUTES:
            continue
        if read is not None and key not in read:  # a name or index its forward never reads: not its work
            continue
        if isinstance(value, (bool, int, float, str)) or value is None:
            config[key] = value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (bool, int, float, str)) for v in value):
            config[key] = list(value)
    if module.training and isinstance(module, TRAINING_CHANGES_WORK):  # F.batch_norm(..., training=True)
        config["training"] = True
    if hasattr(module, "bias") and not isinstance(module.bias, bool):  # an LSTM's bias is a flag, kept as it is
        config["bias"] = module.bias is not None
    if isinstance(module, nn.MultiheadAttention) and module.in_proj_bias is None:  # its biases are parameters
        config["bias"] = False
    if isinstance(module, QUANTIZED_WEIGHTED):  # int8 weights: other work than a float layer of these sizes
        config["bias"] = module.bias() is not None
        config["weight_dtype"] = str(_quantized_weight(module).dtype).removeprefix("torch.")
    if isinstance(module, QUANTIZED_RECURRENT):
        config["weight_dtype"] = str(_quantized_recurrent_dtype(module)).removeprefix("torch.")
    if _renamed_zoo_module(module):
        # it may compute its op otherwise than another of that name: GPT-2's NewGELUActivation runs seven
        # element-wise kernels where BERT's GELUActivation runs one, so the two are two configurations,
        # never one median of both
        config["implementation"] = type(module).__name__
    return config


_READ: dict[type, frozenset[str] | None] = {}  # by class: what its forward reads of its instance


def _attributes_read(kind: type) -> frozenset[str] | None:
    """The attributes of its instance a user's module class reads in forward (`self.scale`), with those read by
    the methods and properties forward reaches: a LayerScale tagged with its `layer_id` does one work at every
    depth. None where its source does not tell: no source to read, a wrapped method (a decorator may read more),
    an instance handed on whole (`f(self)`, `getattr(self, name)`, `self.__dict__`) or super()."""
    if kind not in _READ:
        _READ[kind] = _reached_reads(kind)
    return _READ[kind]


def _reached_reads(kind: type) -> frozenset[str] | None:
    names: set[str] = set()
    pending, seen = ["forward"], set()
    while pending:
        method = pending.pop()
        if method in seen:
            continue
        seen.add(method)
        found = _method_reads(kind, method)
        if found is None:
            return None
        for name in found:
            if isinstance(inspect.getattr_static(kind, name, None), (property, *FUNCTION_KINDS)):
                pending.append(name)
            else:
                names.add(name)
    return frozenset(names)


FUNCTION_KINDS = (staticmethod, classmethod, types.FunctionType)


def _method_reads(kind: type, name: str) -> set[str] | None:
    """The attribute names one method or property of `kind` reads of its first argument, None where not all
    its uses of that argument are such reads."""
    member = inspect.getattr_static(kind, name, None)
    function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
    if not inspect.isfunction(function) or hasattr(function, "__wrapped__"):
        return None
    try:
        definition = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    parameters = [*definition.args.posonlyargs, *definition.args.args]
    if isinstance(member, staticmethod) or not parameters:
        return set()
    this = parameters[0].arg
    nodes = list(ast.walk(definition))
    if any(isinstance(node, ast.Name) and node.id == "super" for node in nodes):
        return None
    uses = sum(isinstance(node, ast.Name) and node.id == this for node in nodes)
    reads = [
        node.attr
        for node in nodes
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == this
    ]
    if uses != len(reads) or any(read.startswith("__") for read in reads):  # self.__dict__ reads them all
        return None
    return set(reads)


def _changed_arguments(module: nn.Module, args: tuple, kwargs: dict) -> dict:
    """The plain arguments of a module's call given otherwise than its forward's defaults, by name: they choose
    its kernel (MultiheadAttention's need_weights=False takes the fused path, is_causal=True masks), and its recipe
    passes them again. A call at the defaults keeps the config it had."""
    if all(isinstance(value, torch.Tensor) for value in (*args, *kwargs.values())):
        return {}
    try:
        call = inspect.signature(module.forward).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    changed = {}
    for name, value in call.arguments.items():
        default = call.signature.parameters[name].default
        if default is inspect.Parameter.empty or not _is_plain(value):
            continue
        if value is not default and not (type(value) is type(default) and value == default):
            changed[name] = _constants(value)
    return changed


def _is_plain(value: Any) -> bool:
    """A value a config can hold as it is: a number, string, flag, None or dtype, or a list or tuple of them."""
    if isinstance(value, (tuple, list)):
        return all(_is_plain(v) for v in value)
    return isinstance(value, (bool, int, float, str, torch.dtype)) or value is None


def _module_flops(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> int:
    inputs = tensors_in((args, kwargs))
    outputs = tensors_in(output)
    if not inputs or not outputs:
        return 0
    x, y = inputs[0], outputs[0]
    if _is_transposed_linear(module):
        return (x.numel() // module.weight.shape[0]) * module.weight.numel()
    if isinstance(module, (nn.modules.conv._ConvNd, *QUANTIZED_CONVOLUTIONS)):
        kernel = math.prod(module.kernel_size)
        if module.transposed:
            return x.numel() * (module.out_channels // module.groups) * kernel
        return y.numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, (nn.Linear, *QUANTIZED_LINEAR)):
        return (x.numel() // module.in_features) * module.in_features * module.out_features
    if isinstance(module, nn.MultiheadAttention):
        return attention_flops(module, args, kwargs)
    if isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        kernel = module.kernel_size
        spatial = next(dims for kind, dims in POOL_DIMENSIONS if isinstance(module, kind))  # unbatched input too
        return y.numel() * (math.prod(kernel) if isinstance(kernel, (tuple, list)) else kernel**spatial)
    if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)):
        return x.numel()  # every input element is read into exactly one output
    if isinstance(module, RECURRENT):
        return recurrent_flops(module, x)
    if isinstance(module, nn.Bilinear):
        return (x.numel() // module.in1_features) * module.weight.numel()
    if isinstance(module, nn.EmbeddingBag):
        return x.numel() * module.embedding_dim  # each index adds one row into its bag
    if isinstance(module, (nn.Dropout, nn.Identity, nn.Flatten, nn.Embedding, nn.Unflatten)):
        return 0
    if _has_weights(module) and not isinstance(module, PER_ELEMENT_WITH_WEIGHTS) and not _renamed_zoo_module(module):
        _note_uncounted(module)
    return y.numel()  # normalisation and activations: about one multiply-add per element


# Modules with weights whose work is about one multiply-add per output element, as the fallback counts it.
# A quantized network's Quantize holds its scale and zero point as buffers.
PER_ELEMENT_WITH_WEIGHTS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.PReLU) + (
    torch.ao.nn.quantized.Quantize,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),  # nn.RMSNorm came with torch 2.4
)
CELLS = (nn.RNNCellBase, DYNAMIC_RNN.RNNCellBase)
RECURRENT = (nn.RNNBase, *QUANTIZED_RECURRENT, *CELLS)
# Pooling modules and the dimensions they pool: a window given as one number is that wide along each of them.
POOLING = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
POOL_DIMENSIONS = tuple((kind, int(kind.__name__[-2])) for kind in POOLING)
EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)
# Modules with weights whose MACs _module_flops has a formula for.
FORMULA_MODULES = (nn.modules.conv._ConvNd, nn.Linear, nn.MultiheadAttention, nn.Bilinear, *EMBEDDINGS, *RECURRENT)
FORMULA_MODULES += PER_ELEMENT_WITH_WEIGHTS + QUANTIZED_WEIGHTED
# Gates of a recurrent layer: each is a product of the layer's input and of its hidden state with a weight.
RECURRENT_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
CELL_GATES = ((nn.LSTMCell, 4), (nn.GRUCell, 3), (nn.RNNCell, 1))
CELL_GATES += ((DYNAMIC_RNN.LSTMCell, 4), (DYNAMIC_RNN.GRUCell, 3), (DYNAMIC_RNN.RNNCell, 1))


def recurrent_flops(module: nn.RNNBase | nn.RNNCellBase, x: torch.Tensor) -> int:
    """MACs of an RNN, LSTM or GRU (or one of their cells): per step, layer and direction, gates x (input +
    hidden) x hidden, plus an LSTM's projection of its hidden state. `x` is the input (a PackedSequence's
    data: its rows are the steps actually run)."""
    steps = x.numel() // module.input_size  # every sequence's steps, over the batch
    hidden = module.hidden_size
    if isinstance(module, CELLS):
        gates = next(count for kind, count in CELL_GATES if isinstance(module, kind))
        return steps * gates * (module.input_size + hidden) * hidden
    gates = RECURRENT_GATES[module.mode]
    directions = 2 if module.bidirectional else 1
    projection = getattr(module, "proj_size", 0)  # a dynamically quantized LSTM has none
    state = projection or hidden  # what each step's hidden state (and a layer's output) holds
    per_step = 0
    for layer in range(module.num_layers):
        layer_input = module.input_size if layer == 0 else state * directions
        per_step += directions * (gates * (layer_input + state) * hidden + (state * hidden if projection else 0))
    return steps * per_step


def _weight_bytes_read(embedding: bool, weights: list[torch.Tensor], args: tuple, kwargs: dict) -> int:
    """Bytes a layer reads from its weights and buffers: all of them, except an embedding's table, of which a
    lookup reads one row per index (every row at most): BERT's 30522-row table at 16 tokens reads 16 rows."""
    if embedding and weights:
        table = weights[0]
        indices = [t for t in tensors_in((args, kwargs)) if not (t.is_floating_point() or t.is_complex())]
        if indices and table.dim() == 2:
            return min(indices[0].numel(), table.shape[0]) * table.shape[1] * table.element_size()
    return sum(t.numel() * t.element_size() for t in weights)


def _has_weights(module: nn.Module) -> bool:
    parameters, buffers = _module_tensors(module)
    return bool(parameters or buffers)


class UncountedModuleWarning(HwprofWarning):
    """A module with weights that hwprof has no MACs formula for: its output's elements stand in."""


def _note_uncounted(module: nn.Module) -> None:
    """One note per module type, however many networks hold it: warn shows each text once."""
    warn(
        f"hwprof has no MACs formula for {type(module).__name__} (a module with weights), so its layers count one "
        "multiply-add per output element, which may be far from their work",
        UncountedModuleWarning,
    )


def attention_flops(module: nn.MultiheadAttention, args: tuple, kwargs: dict) -> int:
    """MACs of an nn.MultiheadAttention call."""
    query = args[0] if args else kwargs["query"]
    key = args[1] if len(args) > 1 else kwargs.get("key", query)
    batch_first = module.batch_first
    if query.dim() == 2:  # unbatched (L, E)
        batch, target_len, source_len = 1, query.shape[0], key.shape[0]
    elif batch_first:
        batch, target_len, source_len = query.shape[0], query.shape[1], key.shape[1]
    else:
        batch, target_len, source_len = query.shape[1], query.shape[0], key.shape[0]
    return _attention_macs(batch, target_len, source_len, module.embed_dim, module.kdim, module.vdim)


def _functional_attention_flops(args: tuple, kwargs: dict) -> int:
    """MACs of F.multi_head_attention_forward(query, key, value, ...), which takes (L, N, E) or unbatched (L, E)
    tensors (a module calling it itself, as CLIP's attention pooling does)."""
    query, key, value = (args[i] if len(args) > i else kwargs[name] for i, name in enumerate(("query", "key", "value")))
    batch = query.shape[1] if query.dim() == 3 else 1
    return _attention_macs(batch, query.shape[0], key.shape[0], query.shape[-1], key.shape[-1], value.shape[-1])


def _attention_macs(batch: int, target_len: int, source_len: int, embed: int, kdim: int, vdim: int) -> int:
    """Input projections, scores, weighted values and output projection, in MACs."""
    projections = target_len * embed * embed + source_len * kdim * embed + source_len * vdim * embed
    scores_and_values = 2 * target_len * source_len * embed
    output_projection = target_len * embed * embed
    return batch * (projections + scores_and_values + output_projection)


def _function_flops(op: str, args: tuple, kwargs: dict, output: Any) -> int:
    inputs = tensors_in((args, kwargs))
    outputs = tensors_in(output)
    if op == "matmul" and len(inputs) >= 2:
        return outputs[0].numel() * inputs[0].shape[-1]  # each output element is one inner product
    if op == "linear" and len(inputs) >= 2:
        return outputs[0].numel() * inputs[1].shape[-1]
    if op in FORWARD_CONVOLUTIONS and len(inputs) >= 2:
        weight = inputs[1]
        return outputs[0].numel() * math.prod(weight.shape[1:])
    if op in TRANSPOSED_CONVOLUTIONS and len(inputs) >= 2:
        # as nn.ConvTranspose counts it: each input element is spread over (out channels / groups) x kernel
        return inputs[0].numel() * math.prod(inputs[1].shape[1:])
    if op == "einsum" and outputs:
        return _einsum_flops(args, outputs[0])
    if op == "tensordot" and len(inputs) >= 2 and outputs:
        return _tensordot_flops(args, kwargs, outputs[0])
    if op in POOLS and inputs and outputs:  # as the torch.nn pooling modules count it
        return _pool_flops(op, args, kwargs, inputs[0], outputs[0])
    if op == "multiheadattentionforward" and len(inputs) >= 3:
        return _functional_attention_flops(args, kwargs)
    if op == "scaleddotproductattention" and len(inputs) >= 3:
        # each query's scores over the keys (its head width E), then the weighted sum of the values (theirs, Ev)
        q, k, v = inputs[:3]
        return q.numel() // q.shape[-1] * k.shape[-2] * (q.shape[-1] + v.shape[-1])
    if op in GROUPED_MM and len(inputs) >= 2 and outputs:
        # rows of A x the expert's weight of each group: M x K x N in all, as one matmul of A by one expert would be.
        # Two 2-D operands are grouped along K, the output stacking one (M, N) product per group
        a, b, y = inputs[0], inputs[1], outputs[0]
        groups = y.shape[0] if a.dim() == 2 and b.dim() == 2 else 1
        return y.numel() // groups * a.shape[-1]
    if op in ("addmm", "baddbmm", "addmv") and len(inputs) >= 3:
        return outputs[0].numel() * inputs[1].shape[-1]
    if op == "mv" and len(inputs) >= 2:
        return outputs[0].numel() * inputs[0].shape[-1]
    if op in ("dot", "vdot") and inputs:
        return inputs[0].numel()
    if op == "inner" and len(inputs) >= 2 and outputs:  # a scalar operand makes it a product by elements
        return outputs[0].numel() * (inputs[0].shape[-1] if inputs[0].dim() and inputs[1].dim() else 1)
    if op == "addbmm" and len(inputs) >= 3:  # a batch of products summed into one matrix
        return inputs[1].numel() * inputs[2].shape[-1]
    if op == "bilinear" and len(inputs) >= 3:  # each output element: x1's row x weight's (in1 x in2) slice x x2's
        x1, weight = inputs[0], inputs[2]
        return x1.numel() // x1.shape[-1] * weight.numel()
    if op in ("linalgmultidot", "chainmatmul") and inputs:
        return _chain_flops([tuple(t.shape) for t in inputs])
    if op in REDUCING_OPS and len(inputs) == 1:  # torch.max(a, b) of two tensors is a product by elements
        return inputs[0].numel()
    if op in INDEXED_WRITES or op == "setitem":
        write = _indexed_write(op, args, kwargs)
        return write.elements if write is not None and write.accumulates else 0
    if op in ("cat", "stack", "flatten", "reshape", "view", "dropout", "zeroslike", "chunk", "split", "embedding"):
        return 0
    if op in COPIES:
        return 0
    return outputs[0].numel() if outputs else 0


# Reductions: every input element is read into one output (a mean over tokens, a sum over a row), as an adaptive
# pool's are, whichever dimensions they reduce.
REDUCING_OPS = {"mean", "nanmean", "sum", "nansum", "prod", "amax", "amin", "aminmax", "max", "min", "argmax", "argmin"}
REDUCING_OPS |= {"var", "std", "varmean", "stdmean", "norm", "linalgvectornorm", "logsumexp", "all", "any"}
REDUCING_OPS |= {"median", "nanmedian", "countnonzero"}


@dataclass(frozen=True)
class IndexedWrite:
    """What a write at indexed places of its destination reads besides it, and how many elements it writes."""

    indices: list[torch.Tensor]
    source: torch.Tensor | None  # None: a number written at every place
    elements: int
    accumulates: bool  # added (or reduced) into the places, which are read too

    def bytes_moved(self, destination: torch.Tensor) -> tuple[int, int]:
        """(read, written) of the write done in place: the indices, the source's elements written, and the places
        themselves where it accumulates; the rest of the destination is neither read nor written."""
        read = sum(t.numel() * t.element_size() for t in self.indices)
        if self.source is not None:
            read += min(self.source.numel(), self.elements) * self.source.element_size()
        written = self.elements * destination.element_size()
        return read + (written if self.accumulates else 0), written


def _argument(args: tuple, kwargs: dict, position: int, *names: str) -> Any:
    if len(args) > position:
        return args[position]
    return next((kwargs[name] for name in names if name in kwargs), None)


def _indexed_write(op: str, args: tuple, kwargs: dict) -> IndexedWrite | None:
    """index_copy_(dim, index, source), scatter_(dim, index, src), index_put_(indices, values, accumulate) and their
    accumulating kin, and x[key] = value, read by their arguments; None for any other call."""
    if not (op in INDEXED_WRITES or op == "setitem") or not args or not isinstance(args[0], torch.Tensor):
        return None
    destination = args[0]
    if op in ("indexput", "setitem"):
        key = _argument(args, kwargs, 1, "indices")
        value = _argument(args, kwargs, 2, "values")
        source = value if isinstance(value, torch.Tensor) else None
        indices = tensors_in(key)
        if indices:
            elements = _indexed_elements(destination, key, source)
        else:  # slices, integers: the places are a view of the destination
            elements = destination[key].numel()
        accumulates = op == "indexput" and bool(_argument(args, kwargs, 3, "accumulate"))
        return IndexedWrite(indices, source, elements, accumulates)
    index = _argument(args, kwargs, 2, "index")
    source = _argument(args, kwargs, 3, "source", "src", "value")
    source = source if isinstance(source, torch.Tensor) else None
    if not isinstance(index, torch.Tensor):
        return None
    # scatter_ writes one element per index, index_copy_ one slice of the source per index
    elements = index.numel() if op.startswith("scatter") else source.numel() if source is not None else 0
    accumulates = op in INDEXED_ACCUMULATES or kwargs.get("reduce") is not None
    return IndexedWrite([index], source, elements, accumulates)


def _indexed_elements(destination: torch.Tensor, key: Any, source: torch.Tensor | None) -> int:
    """The elements an assignment by index tensors writes: integer indices into its leading dimensions write one
    slice of the rest per element of their broadcast shape. Otherwise (slices among them, or a mask, whose True are
    not known on meta) the value's elements, or at most every element where a number is written."""
    indices = key if isinstance(key, (tuple, list)) else (key,)
    if all(isinstance(t, torch.Tensor) and not t.dtype.is_floating_point and t.dtype != torch.bool for t in indices):
        picked = math.prod(torch.broadcast_shapes(*(t.shape for t in indices)))
        return picked * math.prod(destination.shape[len(indices) :])
    return source.numel() if source is not None else destination.numel()


FORWARD_CONVOLUTIONS = {f"conv{n}d" for n in (1, 2, 3)}
TRANSPOSED_CONVOLUTIONS = {f"convtranspose{n}d" for n in (1, 2, 3)}
# Functional convolutions: their work depends on the kernel's size, which only their weight's shape says.
CONVOLUTIONS = FORWARD_CONVOLUTIONS | TRANSPOSED_CONVOLUTIONS
# Mixture-of-experts grouped matmuls (torch._grouped_mm, F.grouped_mm, and transformers' fallback where torch has
# no grouped_mm kernel): A's rows in groups given by cumulative `offs`, each multiplied by its own expert's weight.
GROUPED_MM = {"groupedmm", "groupedmmfallback"}


def _is_weight(op: str, tensor: torch.Tensor) -> bool:
    """A parameter, or for a grouped matmul a view of one: transformers passes the experts' weights transposed
    (gate_up_proj.transpose(-2, -1)), which are still the weights it reads, not an input."""
    if isinstance(tensor, nn.Parameter):
        return True
    return op in GROUPED_MM and isinstance(tensor._base, nn.Parameter)


# Functions whose second and third arguments are a weight and a bias.
WEIGHTED_FUNCTIONS = CONVOLUTIONS | {"linear"}


def _function_weights(op: str, args: tuple, kwargs: dict) -> list[torch.Tensor]:
    """A call's weights: its parameters, and a convolution's or linear layer's weight and bias by position, also
    where they are computed at run time (timm's StdConv2d standardises its weight in forward)."""
    positional = (*args[1:3], kwargs.get("weight"), kwargs.get("bias")) if op in WEIGHTED_FUNCTIONS else ()
    given = {id(t) for t in positional if isinstance(t, torch.Tensor)}
    return [t for t in tensors_in((args, kwargs)) if _is_weight(op, t) or id(t) in given]


def _group_offsets(call: LayerCall) -> None:
    """A grouped matmul's `offs` drawn as the model draws them, cumulative group sizes ending at the rows it
    covered: drawn like token ids, unsorted offsets made groups of negative size, and timings 0.02-5 ms by draw."""
    if "offs" in call.kwargs:
        call.kwargs["offs"] = _as_offsets(call.kwargs["offs"])
    elif len(call.args) > 2:
        call.args = (*call.args[:2], _as_offsets(call.args[2]), *call.args[3:])


def _as_offsets(spec: Any) -> Any:
    if not isinstance(spec, TensorSpec) or spec.value_range is None or len(spec.shape) != 1:
        return spec
    return replace(spec, offsets_total=spec.value_range[1] - 1)  # the last offset is the largest


def _draw_in_domain(op: str, call: LayerCall) -> None:
    """The inputs of an op defined on some values only drawn within them (DOMAIN_INPUTS): by op, not by the values
    seen, so no config and no other op's recipe changes, and a meta trace agrees."""
    positions, domain = DOMAIN_INPUTS.get(op, ((), None))
    if op in POWERS:
        exponent = call.args[1] if len(call.args) > 1 else call.kwargs.get("exponent")
        integral = isinstance(exponent, int) or (isinstance(exponent, float) and exponent.is_integer())
        # x ** 2 is defined for every x; x ** 0.5 and x ** y are not
        positions, domain = ((), None) if integral else ((0,), NONNEGATIVE)
    names = {0: ("input", "self"), 1: ("other",)}
    call.args = tuple(
        _in_domain(spec, domain) if position in positions else spec for position, spec in enumerate(call.args)
    )
    for position in positions:
        for name in names[position]:
            if name in call.kwargs:
                call.kwargs[name] = _in_domain(call.kwargs[name], domain)


def _in_domain(spec: Any, domain: tuple[float, float]) -> Any:
    if not isinstance(spec, TensorSpec) or not spec.dtype.is_floating_point or spec.quantization is not None:
        return spec
    return replace(spec, domain=domain)


def _within(tensor: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """randn's values moved into [low, high], in place: their magnitudes above a lower bound (sqrt's as they were
    drawn), spread evenly over a bounded domain."""
    if math.isinf(high):
        return tensor.abs_().add_(low)
    return tensor.uniform_(low, high)


def _einsum_flops(args: tuple, output: torch.Tensor) -> int:
    """torch.einsum(equation, *operands): each output element sums over the indices the equation contracts."""
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str) or not all(isinstance(t, torch.Tensor) for t in operands):
        return output.numel()
    equation = equation.replace(" ", "")
    given, arrow, result = equation.partition("->")
    terms = given.split(",")
    if len(terms) != len(operands):
        return output.numel()
    sizes: dict[str, int] = {}
    for term, tensor in zip(terms, operands):
        letters = term.replace("...", "")
        if "..." in term:  # the ellipsis stands for the dimensions the letters do not name
            before = term.index("...")
            shape = [*tensor.shape[:before], *tensor.shape[tensor.dim() - (len(letters) - before) :]]
        else:
            shape = list(tensor.shape)
        sizes.update(zip(letters, shape))
    if not arrow:  # implicit output: the letters that appear once
        result = "".join(letter for letter in sizes if given.count(letter) == 1)
    contracted = [size for letter, size in sizes.items() if letter not in result]
    return output.numel() * math.prod(contracted)


def _chain_flops(shapes: list[tuple[int, ...]]) -> int:
    """MACs of torch.linalg.multi_dot's matrix products, in the order that needs fewest, which is the one torch
    picks. A first or last vector is a one-row or one-column matrix."""
    if len(shapes) < 2:
        return 0
    rows = [shapes[0][0] if len(shapes[0]) == 2 else 1] + [shape[-1] for shape in shapes[:-1]]
    sizes = [*rows, shapes[-1][-1] if len(shapes[-1]) == 2 else 1]
    count = len(shapes)
    cost = [[0] * count for _ in range(count)]  # cost[i][j]: fewest MACs to multiply matrices i..j
    for span in range(1, count):
        for i in range(count - span):
            j = i + span
            cost[i][j] = min(cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1] for k in range(i, j))
    return cost[0][count - 1]


def _tensordot_flops(args: tuple, kwargs: dict, output: torch.Tensor) -> int:
    """torch.tensordot(a, b, dims): each output element is an inner product over a's contracted dimensions."""
    a = args[0] if args else kwargs.get("a")
    dims = args[2] if len(args) > 2 else kwargs.get("dims", 2)
    if isinstance(dims, torch.Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        contracted = a.shape[a.dim() - dims :] if dims else ()
    elif isinstance(dims, (list, tuple)) and dims and isinstance(dims[0], (list, tuple)):
        contracted = [a.shape[d] for d in dims[0]]
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:  # ([1], [0]) written (1, 0)
        contracted = [a.shape[dims[0]]]
    else:
        return output.numel()
    return output.numel() * math.prod(contracted)


# Functional pools, counted as their torch.nn modules are: a window's elements per output element, and every
# input element once for an adaptive pool.
POOLS = {f"{kind}pool{n}d" for kind in ("max", "avg") for n in (1, 2, 3)}
POOLS |= {f"adaptive{kind}pool{n}d" for kind in ("max", "avg") for n in (1, 2, 3)}


def _pool_flops(op: str, args: tuple, kwargs: dict, x: torch.Tensor, y: torch.Tensor) -> int:
    if op.startswith("adaptive"):
        return x.numel()
    kernel = args[1] if len(args) > 1 else kwargs.get("kernel_size", 1)
    spatial = int(op[-2])
    return y.numel() * (math.prod(kernel) if isinstance(kernel, (tuple, list)) else kernel**spatial)


# --- precision, memory layout and the modules of model zoos ----------------------------------------

# Leaf modules of model zoos whose class names differ but whose work is a standard op: one op name
# each, so their rows and a sweep of that op teach one layer model (LlamaRMSNorm -> rmsnorm).
# T5's T5LayerNorm (and mT5's, LongT5's, UMT5's) is an RMS norm under a layer norm's name: no mean, no bias.
MODULE_OP_SUFFIXES = (
    ("rmsnorm", "rmsnorm"),
    ("t5layernorm", "rmsnorm"),
    ("layernorm", "layernorm"),
    ("rotaryembedding", "rotaryembedding"),
)
MODULE_OP_WORDS = (("gelu", "gelu"), ("silu", "silu"), ("swish", "silu"))


def _module_op(module: nn.Module) -> str:
    if isinstance(module, nn.Linear) or _is_transposed_linear(module):
        return "linear"
    kind = torch_nn_class(module)
    if kind is not None:
        return kind.__name__.lower()
    name = type(module).__name__.lower()
    for suffix, op in MODULE_OP_SUFFIXES:
        if name.endswith(suffix):
            return op
    for word, op in MODULE_OP_WORDS:
        if word in name and name.endswith(("activation", word)):
            return op
    return name


def _module_doing(func: Callable, args: tuple, kwargs: dict, output: Any) -> tuple | None:
    """(the torch.nn module, its input, its output) for a functional call that does one module's work, or None.

    timm's BatchNormAct2d calls F.batch_norm itself (its activation is a module of its own, recorded as
    such), and its squeeze-excite pools with x.mean((2, 3), keepdim=True): recorded as batchnorm2d and
    adaptiveavgpool2d, they are the rows the layer models and sweeps of those ops know, with their running
    statistics as weights, not inputs, and a mean's MACs those of reading every input element."""
    if func is F.batch_norm:
        return _batch_norm_module(args, kwargs, output)
    if func is torch.mean or func is torch.Tensor.mean:
        return _global_pool_module(args, kwargs, output)
    return None


BATCH_NORMS = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}  # by input rank


def _batch_norm_module(args: tuple, kwargs: dict, output: Any) -> tuple | None:
    try:
        call = inspect.signature(F.batch_norm).bind(*args, **kwargs)
    except TypeError:
        return None
    call.apply_defaults()
    x, weight, bias, running_mean = (call.arguments[k] for k in ("input", "weight", "bias", "running_mean"))
    norm = BATCH_NORMS.get(x.dim()) if isinstance(x, torch.Tensor) else None
    if norm is None or (weight is None) != (bias is None):
        return None
    module = norm(
        x.shape[1],
        eps=call.arguments["eps"],
        momentum=call.arguments["momentum"],
        affine=weight is not None,
        track_running_stats=running_mean is not None,
        device=x.device,
        dtype=(weight if weight is not None else x).dtype,
    )
    # without running statistics a norm computes batch statistics in eval mode too: one config for both calls
    return module.train(bool(call.arguments["training"]) and running_mean is not None), x, output


def _global_pool_module(args: tuple, kwargs: dict, output: Any) -> tuple | None:
    """A mean over the height and width of an NCHW tensor: a global average pool, kept as (N, C, 1, 1)."""
    x = args[0] if args else kwargs.get("input")
    dims = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if len(args) > 3 or kwargs.get("dtype") is not None or not isinstance(x, torch.Tensor):
        return None
    if x.dim() != 4 or not x.is_floating_point() or not isinstance(dims, (tuple, list)):
        return None
    if not all(isinstance(d, int) for d in dims) or sorted(d % 4 for d in dims) != [2, 3]:
        return None
    if not isinstance(output, torch.Tensor):
        return None
    return nn.AdaptiveAvgPool2d((1, 1)), x, output if keepdim else output[..., None, None]


def _renamed_zoo_module(module: nn.Module) -> bool:
    """A model zoo's module recorded under a standard op's name (LlamaRMSNorm as rmsnorm)."""
    if isinstance(module, nn.Linear) or torch_nn_class(module) is not None:
        return False
    return _module_op(module) != type(module).__name__.lower()


def _is_transposed_linear(module: nn.Module) -> bool:
    """transformers' Conv1D (GPT-2): a linear layer whose weight is stored (in, out), computed with addmm."""
    return type(module).__name__ == "Conv1D" and type(module).__module__.startswith("transformers")


def _is_channels_last(tensor: torch.Tensor) -> bool:
    return (
        tensor.dim() == 4
        and not tensor.is_contiguous()
        and tensor.is_contiguous(memory_format=torch.channels_last)
        and tensor.shape[1] > 1
    )


def _mask_facts(tensor: torch.Tensor, value_range: tuple[int, int] | None) -> tuple[float | None, bool]:
    """A mask's share of True and whether each of its rows held them in one run (inputs.one_run_per_row), to draw
    a layer's mask alike when it is timed alone. A mask is a bool tensor, or an integer one holding 0 and 1 (an
    MoE's one-hot expert mask, 1/experts of it ones, which randint over [0, 2) would draw half ones). (None, False)
    for any other tensor, and on meta, which has no values."""
    if not (tensor.dtype == torch.bool or value_range == (0, 2)) or not tensor.numel() or tensor.is_meta:
        return None, False
    version = _version(tensor)
    known = _MASK_FACTS.get(tensor) if version is not None else None
    if known is not None and known[0] == version:
        return known[1]
    with torch._C.DisableTorchFunction():  # hwprof's own reads, not layers of the network being recorded
        facts = float(tensor.count_nonzero()) / tensor.numel(), one_run_per_row(tensor)
    if version is not None:
        _MASK_FACTS[tensor] = (version, facts)
    return facts


# an attention mask that every layer of a decoder is given is read once (a 4 x 2048 x 2048 one takes about 0.3 s),
# until it is written to; kept only while the mask lives
_MASK_FACTS: WeakIdKeyDictionary = WeakIdKeyDictionary()


def _version(tensor: torch.Tensor) -> int | None:
    """How many times the tensor was written in place; None for an inference-mode tensor, which keeps no count."""
    try:
        return tensor._version
    except RuntimeError:
        return None


def _laid_out_anew(tensor: torch.Tensor) -> bool:
    """Whether copying `tensor` in order reorders its memory: neither contiguous nor NHWC (which
    _precision_config names), nor a quantized tensor (drawn as _quantization says)."""
    return not (tensor.is_contiguous() or _is_channels_last(tensor) or tensor.is_quantized)


def _value_range(tensor: torch.Tensor) -> tuple[int, int] | None:
    """[min, max + 1) of an integer tensor's values, for drawing like ones when the layer is timed alone."""
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex or tensor.dtype == torch.bool or not tensor.numel():
        return None
    if tensor.is_quantized:  # quantized values stand for floats: drawn as _quantization says
        return None
    if tensor.device.type == "meta":  # shapes only: no values to range over
        return None
    with torch._C.DisableTorchFunction():  # hwprof's own reads, not layers of the network being recorded
        return int(tensor.min()), int(tensor.max()) + 1


def _quantization(tensor: torch.Tensor) -> tuple[float, int] | None:
    """A quantized tensor's scale and zero point (a per-channel one's first channel's), to quantize a synthetic
    input alike; None for any other tensor."""
    if not tensor.is_quantized:
        return None
    if tensor.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        return float(tensor.q_scale()), int(tensor.q_zero_point())
    return float(tensor.q_per_channel_scales()[0]), int(tensor.q_per_channel_zero_points()[0])


def _precision_config(inputs: list[torch.Tensor], weight_dtype: torch.dtype | None) -> dict:
    """The dtype a layer computes in (its first float input's, else its weights', else its first input's),
    where it is not float32, a channels-last layout, and integer inputs' dtypes where not int64: all change the
    work, so all enter the config (and with it the config_id). An embedding's integer indices do not make it an
    integer layer."""
    floats = [t.dtype for t in inputs if t.dtype.is_floating_point]
    dtype = floats[0] if floats else weight_dtype or (inputs[0].dtype if inputs else torch.float32)
    config: dict = {}
    if dtype != torch.float32:
        config["dtype"] = str(dtype).removeprefix("torch.")
    if inputs and _is_channels_last(inputs[0]):
        config["memory_format"] = "channels_last"
    # an embedding's or a gather's int32 indices take other kernels than int64 ones, torch's default
    indices = [t.dtype for t in inputs if not (t.is_floating_point() or t.is_complex() or t.is_quantized)]
    indices = [index for index in indices if index != torch.bool]
    if any(index not in (torch.int64, dtype) for index in indices):  # an int32 op's dtype says it already
        config["index_dtypes"] = [str(index).removeprefix("torch.") for index in indices]
    return config


def _layout_config(inputs: list[torch.Tensor]) -> dict:
    """How the inputs are laid out, where the config's memory_format does not say it (NHWC where it says
    channels_last, as a channels-last network's adds take both operands; in order otherwise): the first input's
    strides where it is neither (a transposed input is read, or copied, otherwise than one in order), and the
    others' layouts beside their shapes, "channels_last", "contiguous" or their strides (x + y_nhwc is 4-13x the
    work of x + y, x + y.transpose(1, 2) more still). Inputs laid out as implied add nothing: their configs keep
    their ids."""
    config: dict = {}
    if not inputs:
        return config
    if _laid_out_anew(inputs[0]):
        config["input_strides"] = list(inputs[0].stride())
    nhwc = _is_channels_last(inputs[0])
    layouts = [None, *(_layout(tensor, nhwc) for tensor in inputs[1:])]
    if any(layout is not None for layout in layouts):
        config["input_layouts"] = layouts
    return config


def _layout(tensor: torch.Tensor, nhwc: bool) -> str | list[int] | None:
    """An input's layout, None where it is the one the first input's memory_format implies."""
    implied = torch.channels_last if nhwc and tensor.dim() == 4 else torch.contiguous_format
    if tensor.is_contiguous(memory_format=implied):
        return None
    if _is_channels_last(tensor):
        return "channels_last"
    if tensor.is_contiguous():
        return "contiguous"
    return list(tensor.stride()) if _laid_out_anew(tensor) else None


# --- small helpers --------------------------------------------------------------------------


def _specs(value: Any, seen: dict[int, int]) -> Any:
    """The recipe of an argument; `seen` numbers the tensors met so far, so a repeated one is marked as such.
    Tensors keep their layout: a transposed operand is read otherwise than one in order, and a copy of a tensor
    in order does nothing."""
    if isinstance(value, torch.Tensor):
        same_as = seen.get(id(value))
        if same_as is None:
            seen[id(value)] = len(seen)
        value_range = _value_range(value)
        true_share, row_runs = _mask_facts(value, value_range)
        return TensorSpec(
            tuple(value.shape),
            value.dtype,
            _is_channels_last(value),
            value_range,
            same_as,
            quantization=_quantization(value),
            true_share=true_share,
            row_runs=row_runs,
            strides=tuple(value.stride()) if _laid_out_anew(value) else None,
        )
    if isinstance(value, tuple):
        return tuple(_specs(v, seen) for v in value)
    if isinstance(value, list):
        return [_specs(v, seen) for v in value]
    if isinstance(value, dict):
        return {k: _specs(v, seen) for k, v in value.items()}
    return value


def _runner(target: Callable[..., Any], args: tuple, kwargs: dict) -> Callable[[], Any]:
    """The layer's call with its arguments bound, a closure (no frame beyond the target's, as timing asks)."""
    return lambda: target(*args, **kwargs)


def _materialise(value: Any, device, made: list[torch.Tensor], drawn: list[torch.Tensor] | None = None) -> Any:
    """The recipe with its tensors made, in order into `made`; copied from `drawn` (another materialisation of
    the same recipe, in the same order) where given and the tensor is dense."""
    if isinstance(value, TensorSpec):
        if value.same_as is not None:
            return made[value.same_as]
        made.append(value.make(device) if drawn is None or value.strides is not None else drawn[len(made)].clone())
        return made[-1]
    if isinstance(value, tuple):
        return tuple(_materialise(v, device, made, drawn) for v in value)
    if isinstance(value, list):
        return [_materialise(v, device, made, drawn) for v in value]
    if isinstance(value, dict):
        return {k: _materialise(v, device, made, drawn) for k, v in value.items()}
    return value


def _constants(value: Any) -> Any:
    """JSON-able view of non-tensor arguments; tensors become their position marker."""
    if isinstance(value, torch.Tensor):
        return "tensor"
    if isinstance(value, (tuple, list)):
        return [_constants(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _constants(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, torch.dtype):
        return str(value)
    return type(value).__name__
